// The folder of this package's built modules, written once per module format: this file is the
// CommonJS form (`__dirname`), which the CommonJS build and Jest (it runs the sources as CommonJS)
// use; the ESM build uses own-location-esm.mts (`import.meta.url`) in its place
// (tools/scripts/build-package.mjs). `import.meta` cannot be written in code also compiled to
// CommonJS, and `__dirname` does not exist in ES modules.

/** The folder this module was loaded from (`dist/esm`, `dist/cjs`, or `src` under Jest). */
export const ownDirectory: string = __dirname;
