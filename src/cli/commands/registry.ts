/** `tlsprobe registry FILE`: check a Windows registry export for the settings that enable TLS 1.2. */
import { basename } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { WINDOWS_VERSIONS, parseWindowsVersion, type WindowsVersion } from '../../diagnose/windows-versions.js';
import { ExitCode, UserError } from '../exit-codes.js';
import type { CliContext } from '../context.js';
import { readInput } from '../io.js';
import { envelope } from '../../report/envelope.js';

interface RegistryArgs {
  file: string;
  os?: string;
  fix?: string;
  json: boolean;
}

/** Returns the Windows version named by `--os`, or throws UserError listing the accepted names. */
export function osOption(value: string | undefined): WindowsVersion | null {
  if (value === undefined) return null;
  const v = parseWindowsVersion(value);
  if (!v) throw new UserError(`--os "${value}" is not a Windows version tlsprobe knows: use one of ${WINDOWS_VERSIONS.join(', ')}`);
  return v;
}

export function registryCommand(ctx: CliContext): CommandModule<object, RegistryArgs> {
  return {
    command: 'registry <file>',
    describe: 'Check a Windows registry export (.reg or saved `reg query` output) for the SChannel and .NET TLS 1.2 settings',
    builder: (y: Argv) =>
      y
        .positional('file', { type: 'string', describe: '.reg file (UTF-16LE as regedit writes it, or UTF-8) or saved reg query output; - for stdin' })
        .option('os', { type: 'string', describe: `the machine's Windows version: ${WINDOWS_VERSIONS.join(', ')} (decides which missing keys are fine)` })
        .option('fix', { type: 'string', describe: 'write a .reg file that sets what is missing or wrong (UTF-16LE, as regedit expects)' })
        .option('json', { type: 'boolean', default: false, describe: 'print JSON' })
        .example('reg export "HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL" schannel.reg', 'on the Windows machine: export SChannel')
        .example('reg query "HKLM\\SOFTWARE\\WOW6432Node\\Microsoft\\.NETFramework\\v4.0.30319" > dotnet32.txt', 'on the Windows machine: the 32-bit .NET key')
        .example('$0 registry schannel.reg --os 2012r2 --fix enable-tls12.reg', 'check it and write the fix')
        .epilog(
          'Checked: SCHANNEL\\Protocols\\TLS 1.2\\Client Enabled=1 and DisabledByDefault=0 (the defaults on Windows ' +
            'Server 2012 R2 and newer, where absent keys are fine), and SystemDefaultTlsVersions=1 and ' +
            'SchUseStrongCrypto=1 under both .NETFramework\\v4.0.30319 keys (64-bit and WOW6432Node). Windows Server ' +
            '2008 SP2 needs KB4019276 and Windows 7 / Server 2008 R2 / Server 2012 need KB3140245 before the keys take ' +
            'effect. Query the WOW6432Node path by name: `reg query /reg:32` prints it without WOW6432Node. ' +
            'The file is read as data, never run. Exit code 0 when TLS 1.2 is enabled for SChannel and .NET, 1 when ' +
            'something must change, 2 when the file cannot be read.',
        ) as unknown as Argv<RegistryArgs>,
    handler: async (args) => {
      const os = osOption(args.os);
      const { parseRegistryText, checkRegistry, renderRegistryReport, encodeRegFile, RegistryParseError } = await import('../../diagnose/registry.js');
      const bytes = readInput(args.file === '' ? '-' : args.file);
      let snapshot;
      try {
        snapshot = parseRegistryText(bytes);
      } catch (e) {
        if (e instanceof RegistryParseError) throw new UserError(`${args.file}: ${e.line > 0 ? `line ${e.line}: ` : ''}${e.detail}`);
        throw e;
      }
      const report = checkRegistry(snapshot, os);
      if (args.fix !== undefined) {
        if (report.fix === null) ctx.err(`nothing to fix: ${args.fix} not written`);
        else {
          const { writeFileAtomic } = await import('../../io/atomic-file.js');
          try {
            // A .reg file holds no secret: the usual 0644.
            await writeFileAtomic(args.fix, encodeRegFile(report.fix), 0o644);
          } catch (e) {
            throw new UserError(`cannot write ${args.fix}: ${(e as Error).message}`);
          }
        }
      }
      const ok = report.tls12 === 'enabled' && report.dotnetStrongCrypto;
      if (!ok) ctx.setExitCode(ExitCode.failure);
      if (args.json) ctx.out(JSON.stringify(envelope('registry', report), null, 2));
      else ctx.out(renderRegistryReport(report) + (args.fix !== undefined && report.fix !== null ? `\nWrote ${args.fix}: import it with regedit or \`reg import ${basename(args.fix)}\`, then restart the backup services.` : ''));
    },
  };
}
