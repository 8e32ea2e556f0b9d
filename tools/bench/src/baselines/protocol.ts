/** Messages between the bench process and a server child over the IPC channel. */

/** Parent -> child: run a command (`cpu`, `heap`, `stop`, or one the script defines). */
export interface ChildRequest {
  type: 'request';
  id: number;
  command: string;
  args?: unknown;
}

/** Child -> parent. */
export type ChildReply =
  | { type: 'ready'; port: number }
  | { type: 'fatal'; error: string }
  | { type: 'reply'; id: number; value?: unknown; error?: string };
