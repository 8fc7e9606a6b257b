/** Types of core/entry-bundle.mjs (plain JavaScript, so bin/pushbench.js can load it before tsx). */
export declare function entryBundle(entry: string, opts?: { split?: boolean }): Promise<string | null>;
