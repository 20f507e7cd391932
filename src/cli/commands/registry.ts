/** `tlsprobe registry FILE`: check a Windows registry export for the settings that enable TLS 1.2. */
import { basename } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { WINDOWS_VERSIONS, parseWindowsVersion, type WindowsVersion } from '../../diagnose/windows-versions.js';
import { ExitCode, UserError } from '../exit-codes.js';
import type { CliContext } from '../context.js';
import { checkOutputPath, readInput } from '../io.js';
import { envelope } from '../../report/envelope.js';

interface RegistryArgs {
  file?: string;
  live: boolean;
  os?: string;
  fix?: string;
  force: boolean;
  json: boolean;
}

/** Returns `s` with control characters (from registry values) shown as \xNN, safe for a terminal. */
function escapeForTerminal(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Returns the Windows version named by `--os`, or throws UserError listing the accepted names. */
export function osOption(value: string | undefined): WindowsVersion | null {
  if (value === undefined) return null;
  const v = parseWindowsVersion(value);
  if (!v)
    throw new UserError(
      `--os "${value}" is not a Windows version tlsprobe knows: use one of ${WINDOWS_VERSIONS.join(', ')}`,
    );
  return v;
}

export function registryCommand(ctx: CliContext): CommandModule<object, RegistryArgs> {
  return {
    command: 'registry [file]',
    describe:
      "Check a Windows registry export (.reg or saved `reg query` output), or with --live this machine's registry, for the SChannel, .NET and WinHTTP TLS 1.2 settings",
    builder: (y: Argv) =>
      y
        .positional('file', {
          type: 'string',
          describe: '.reg file (UTF-16LE as regedit writes it, or UTF-8) or saved reg query output; - for stdin',
        })
        .option('live', {
          type: 'boolean',
          default: false,
          describe:
            "on Windows: read this machine's SChannel, .NET (both views), WinHTTP and version keys with reg query",
        })
        .option('os', {
          type: 'string',
          describe: `the machine's Windows version: ${WINDOWS_VERSIONS.join(', ')} (decides which missing keys are fine)`,
        })
        .option('fix', {
          type: 'string',
          describe: 'write a .reg file that sets what is missing or wrong (UTF-16LE, as regedit expects)',
        })
        .option('force', {
          type: 'boolean',
          default: false,
          describe: 'let --fix replace a file that exists (never the input file)',
        })
        .option('json', { type: 'boolean', default: false, describe: 'print JSON' })
        .example(
          'reg export "HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL" schannel.reg',
          'on the Windows machine: export SChannel',
        )
        .example(
          'reg query "HKLM\\SOFTWARE\\WOW6432Node\\Microsoft\\.NETFramework\\v4.0.30319" > dotnet32.txt',
          'on the Windows machine: the 32-bit .NET key',
        )
        .example('$0 registry schannel.reg --os 2012r2 --fix enable-tls12.reg', 'check it and write the fix')
        .example(
          '$0 registry --live',
          'on the Windows machine itself: read and check its registry (Windows version detected)',
        )
        .epilog(
          'Checked: SCHANNEL\\Protocols\\TLS 1.2\\Client Enabled=1 and DisabledByDefault=0 (the defaults on Windows ' +
            'Server 2012 R2 and newer, where absent keys are fine), and SystemDefaultTlsVersions=1 and ' +
            'SchUseStrongCrypto=1 under both .NETFramework\\v4.0.30319 keys (64-bit and WOW6432Node). Windows Server ' +
            '2008 SP2 needs KB4019276 and Windows 7 / Server 2008 R2 / Server 2012 need KB3140245 before the keys take ' +
            'effect. Query the WOW6432Node path by name: `reg query /reg:32` prints it without WOW6432Node. ' +
            'The file is read as data, never run. Exit code 0 when TLS 1.2 is enabled for SChannel and .NET, 1 when ' +
            'something must change, 2 when the file cannot be read.',
        ) as unknown as Argv<RegistryArgs>, // the chain's inferred options type is not assignable to RegistryArgs, the shape the handler reads
    handler: async (args) => {
      let os = osOption(args.os);
      // The customer's export is evidence: --fix never writes over it, nor over another file unless --force.
      if (args.fix !== undefined)
        checkOutputPath(args.fix, '--fix', {
          existing: args.force ? 'replace' : 'refuse',
          inputs: args.file !== undefined ? [args.file] : [],
        });
      const { parseRegistryText, checkRegistry, renderRegistryReport, encodeRegFile, RegistryParseError } =
        await import('../../diagnose/registry.js');
      if (args.live && args.file !== undefined) throw new UserError('give a registry FILE or --live, not both');
      if (!args.live && args.file === undefined)
        throw new UserError(
          'give a registry FILE (.reg export or saved reg query output; - for stdin), or --live on Windows',
        );
      let snapshot;
      let live = null;
      if (args.live) {
        const { readLiveRegistry, LiveRegistryError } = await import('../../diagnose/live-registry.js');
        try {
          live = await readLiveRegistry();
        } catch (e) {
          if (e instanceof LiveRegistryError) throw new UserError(e.message);
          throw e;
        }
        snapshot = live.snapshot;
        os ??= live.detected?.version ?? null;
      } else {
        const file = args.file!;
        const bytes = readInput(file);
        try {
          snapshot = parseRegistryText(bytes);
        } catch (e) {
          if (e instanceof RegistryParseError)
            throw new UserError(`${file}: ${e.line > 0 ? `line ${e.line}: ` : ''}${e.detail}`);
          throw e;
        }
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
      let ok = report.tls12 === 'enabled' && report.dotnetStrongCrypto;
      const wrote =
        args.fix !== undefined && report.fix !== null
          ? `\nWrote ${args.fix}: import it with regedit or \`reg import ${basename(args.fix)}\`, then restart the backup services.`
          : '';
      if (live !== null) {
        const { checkWinHttp, describeWinHttp } = await import('../../diagnose/live-registry.js');
        const winhttp = checkWinHttp(snapshot, os);
        ok &&= winhttp.every((c) => c.status === 'ok' || c.status === 'missing-ok');
        if (!ok) ctx.setExitCode(ExitCode.failure);
        const machine = { detected: live.detected, missingKeys: live.missingKeys };
        if (args.json) ctx.out(JSON.stringify(envelope('registry', { ...report, live: machine, winhttp }), null, 2));
        else {
          const seen = live.detected
            ? `This machine: ${live.detected.version} (${live.detected.evidence}).`
            : 'This machine: Windows version not recognised from Windows NT\\CurrentVersion.';
          ctx.out(
            `${escapeForTerminal(seen)}\n${renderRegistryReport(report)}\n${describeWinHttp(winhttp, os)}${wrote}`,
          );
        }
        return;
      }
      if (!ok) ctx.setExitCode(ExitCode.failure);
      if (args.json) ctx.out(JSON.stringify(envelope('registry', report), null, 2));
      else ctx.out(renderRegistryReport(report) + wrote);
    },
  };
}
