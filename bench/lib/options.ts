/** The value after `name` (e.g. `--runs`) on a benchmark's command line, or undefined when it is not given. */
export function optionOf(argv: readonly string[], name: string): string | undefined {
  const at = argv.indexOf(name);
  return at >= 0 ? argv[at + 1] : undefined;
}
