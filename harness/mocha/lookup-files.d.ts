// mocha's own glob expansion (the one its CLI uses for spec files); it ships no types.
declare module 'mocha/lib/cli/lookup-files.js' {
  export function lookupFiles(filepath: string, extensions?: string[], recursive?: boolean): string[];
}
