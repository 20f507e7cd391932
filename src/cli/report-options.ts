/** Options that ask for a report beside the usual output, declared once for every command that has them. */

/** `--ladder` (probe, diagnose, replay): the text handshake ladder after the report. */
export const LADDER_OPTION = {
  type: 'boolean',
  default: false,
  describe:
    'also draw each attempt as a ladder: ClientHello out; ServerHello, alert, RST, FIN or nothing back; milliseconds',
} as const;

/** `--html FILE` (probe, diagnose, clients, capture): the self-contained HTML report. */
export const HTML_OPTION = {
  type: 'string',
  describe: 'also write a self-contained HTML report to FILE (verdict, fix, ladder, chain, raw evidence)',
} as const;
