// Types of the dev dependency parse-prometheus-text-format (it ships none).
declare module 'parse-prometheus-text-format' {
  /** One sample of a counter or gauge; of a histogram: buckets by `le`, count and sum. */
  export interface PrometheusSample {
    readonly labels?: Readonly<Record<string, string>>;
    readonly value?: string;
    readonly buckets?: Readonly<Record<string, string>>;
    readonly count?: string;
    readonly sum?: string;
  }
  /** One metric family of the text exposition. */
  export interface PrometheusFamily {
    readonly name: string;
    readonly help: string;
    readonly type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
    readonly metrics: readonly PrometheusSample[];
  }
  /** Parses the Prometheus text format. */
  export default function parsePrometheusTextFormat(text: string): PrometheusFamily[];
}
