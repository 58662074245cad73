// The sign-in page: an access key ID and its secret access key, as the ECR API and `docker login` take them.
import { html, type Html } from './html.ts';

export function signInPage(csrf: string, next: string, accessKeyId: string): Html {
  return html`<section class="panel narrow">
<h1>Sign in to Berth</h1>
<form method="post" action="/console/sign-in">
  <input type="hidden" name="_csrf" value="${csrf}">
  <input type="hidden" name="next" value="${next}">
  <label for="accessKeyId">Access key ID</label>
  <input type="text" id="accessKeyId" name="accessKeyId" autocomplete="username" required autofocus value="${accessKeyId}">
  <label for="secretAccessKey">Secret access key</label>
  <input type="password" id="secretAccessKey" name="secretAccessKey" autocomplete="current-password" required>
  <p><button type="submit" class="primary">Sign in</button></p>
</form>
<p class="muted">The console acts as the key's user: what it shows and does is authorized as the same ECR API call would be.</p>
</section>`;
}
