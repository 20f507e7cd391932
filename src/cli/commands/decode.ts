/** `tlsprobe decode`: decode a TLS record stream or handshake message and print a tree or JSON. */
import type { Argv, CommandModule } from 'yargs';
import { DecodeError } from '../../wire/errors.js';
import { hexOrBinary, parseHexArgument, readInput } from '../io.js';
import { UserError } from '../exit-codes.js';
import type { CliContext } from '../context.js';
import { envelope } from '../../report/envelope.js';

interface DecodeArgs {
  file?: string;
  hex?: string;
  json: boolean;
}

export function decodeCommand(ctx: CliContext): CommandModule<object, DecodeArgs> {
  return {
    command: 'decode [file]',
    describe: 'Decode TLS records or handshake messages (raw bytes or hex) into a readable tree',
    builder: (y: Argv) =>
      y
        .positional('file', { type: 'string', describe: 'file with raw bytes or hex text; - reads standard input' })
        .option('hex', { type: 'string', describe: 'the bytes as a hex string instead of a file' })
        .option('json', { type: 'boolean', default: false, describe: 'print JSON ({ "messages": [...] })' })
        .example('$0 decode hello.bin', 'decode a raw ClientHello record')
        .example('$0 decode --hex 15030300020228', 'decode bytes given as hex (here: a fatal handshake_failure alert)')
        .example('$0 decode - --json < hello.hex', 'decode hex or bytes from standard input as JSON')
        .epilog(
          'Input is a TLS record stream (as sent on the wire), bare handshake messages, or an SSLv2-compatible ' +
            'ClientHello. ChangeCipherSpec and encrypted records are listed, not decoded. Broken input prints ' +
            'one line naming the offset and field, and exits with code 2.',
        ) as unknown as Argv<DecodeArgs>, // the chain's inferred options type is not assignable to DecodeArgs, the shape the handler reads
    handler: async (args) => {
      const { decode } = await import('../../decode.js');
      const { renderDecodeTree } = await import('../../report/decode-tree.js');
      if (args.file === undefined && args.hex === undefined)
        throw new UserError('give a FILE (or - for stdin) or --hex HEX');
      if (args.file !== undefined && args.hex !== undefined) throw new UserError('give either FILE or --hex, not both');
      const bytes = args.hex !== undefined ? parseHexArgument(args.hex) : hexOrBinary(readInput(args.file!));
      let result;
      try {
        result = decode(bytes);
      } catch (e) {
        if (e instanceof DecodeError) {
          throw new UserError(`cannot decode: ${e.path || 'input'} at offset ${e.offset}: ${e.detail} (${e.code})`);
        }
        throw e;
      }
      ctx.out(args.json ? JSON.stringify(envelope('decode', result), null, 2) : renderDecodeTree(result));
    },
  };
}
