// "View push commands": ECR's four steps (log in, build, tag, push) with this registry's host and the repository's
// URI, for Linux and macOS (the AWS CLI) and for Windows PowerShell (AWS Tools for PowerShell), each with a copy
// button. Against Berth, the AWS tools need the registry's endpoint URL.
import { html, type Html } from './html.ts';
import { copyButton } from './layout.ts';
import type { PageContext } from './handler.ts';

export function pushCommandLines(opts: { region: string; endpoint: string; host: string; name: string; uri: string }) {
  const local = opts.name.split('/').pop()!;
  const rest = [
    { what: 'Build your image (skip this step if it is built already):', command: `docker build -t ${local} .` },
    { what: 'Tag it so that you can push it to this repository:', command: `docker tag ${local}:latest ${opts.uri}:latest` },
    { what: 'Push it:', command: `docker push ${opts.uri}:latest` },
  ];
  return {
    unix: [
      {
        what: 'Retrieve an authentication token and log your Docker client in to the registry:',
        command: `aws ecr get-login-password --region ${opts.region} --endpoint-url ${opts.endpoint} | docker login --username AWS --password-stdin ${opts.host}`,
      },
      ...rest,
    ],
    windows: [
      {
        what: 'Retrieve an authentication token and log your Docker client in to the registry:',
        command: `(Get-ECRLoginCommand -Region ${opts.region} -EndpointUrl ${opts.endpoint}).Password | docker login --username AWS --password-stdin ${opts.host}`,
      },
      ...rest,
    ],
  };
}

export function pushCommands(ctx: PageContext, name: string, uri: string): Html {
  const { region, publicHost, publicScheme } = ctx.deps;
  const lines = pushCommandLines({ region, endpoint: `${publicScheme}://${publicHost}`, host: publicHost, name, uri });
  const steps = (list: { what: string; command: string }[], id: string) =>
    html`<ol id="${id}">${list.map((s) => html`<li>${s.what}<pre><code>${s.command}</code></pre>${copyButton(s.command)}</li>`)}</ol>`;
  return html`<details id="push-commands">
<summary>View push commands</summary>
<p class="muted">Use the AWS CLI (or AWS Tools for PowerShell) and Docker. Against Berth, the AWS tools need <code>--endpoint-url ${publicScheme}://${publicHost}</code>.</p>
<details open><summary>macOS / Linux</summary>${steps(lines.unix, 'push-unix')}</details>
<details><summary>Windows (PowerShell)</summary>${steps(lines.windows, 'push-windows')}</details>
</details>`;
}
