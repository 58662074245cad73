// Every regular expression Berth applies to what clients send, in one list, so that a test can prove each runs
// in linear time on adversarial input (test/unit/input-patterns.test.ts). V8's engine backtracks: a pattern with
// nested or overlapping repetition can take exponential or quadratic time. The ECR model's patterns run on RE2
// (src/ecr/validate.ts); the hand-written ones below are written so that V8 cannot backtrack far (every repetition
// is followed by a character it cannot match, and no two repetitions can match the same text).
//
// Not listed, as they never see client input: the configuration's patterns (src/config.ts, the operator's), the
// names of ECR operations (src/ecr/operations.ts, matched only once the name is in the model), and Berth's own
// dates and random secrets. Literal-only patterns over a stored policy (src/auth/authorizer.ts) are linear.
// A pattern added for client input belongs here.
import { BASE64, modelPatterns } from '../ecr/validate.ts';
import { REPOSITORY_ARN } from '../ecr/repositories.ts';
import { REFERENCE_KIND } from '../oci/path.ts';
import { HTML_SPECIAL } from '../console/html.ts';
import { LINE_BREAK, LIST_SEPARATORS } from '../console/repositories.ts';
import { JSON_ERROR_POSITION, NOT_WORD } from '../console/json-editor.ts';
import { CREDENTIAL_STOP } from '../ecr/authenticate.ts';
import { DIGEST, LOWER_HEX, NAME, TAG } from '../core/grammar.ts';
import { NON_DISTRIBUTABLE } from '../core/manifest.ts';
import { UPLOAD_ID } from '../core/registry.ts';
import { BEARER, BLOB_PATH, ROUTES } from '../oci/router.ts';
import { ACCOUNT_QUALIFIED_NAME } from '../oci/context.ts';
import { PAGE_SIZE } from '../oci/listing.ts';
import { CONTENT_RANGE, RANGE } from '../oci/range.ts';
import { AMZ_DATE, NOT_ENCODED_BY_JS, PLUS, WHITESPACE_RUNS } from '../auth/sigv4.ts';
import { ACCOUNT_ID as IDENTITY_ACCOUNT_ID, BASIC, POLICY_NAME, USER_NAME } from '../auth/identity.ts';
import { ACCOUNT_ID, ACTION, IDENTITY_SID, PRINCIPAL_ARN, SERVICE_PRINCIPAL } from '../auth/policy/document.ts';
import { BASE64_TEXT, BOOLEAN_TEXT, EPOCH, ISO, MAPPED_IPV4, NUMBER, PREFIX_LENGTH } from '../auth/policy/conditions.ts';
import { ACCOUNT_NUMBER, ROOT_ARN } from '../auth/policy/evaluate.ts';
import { NON_ASCII, VARIABLE } from '../auth/policy/wildcard.ts';
import { UPLOAD_FILE_NAME } from '../storage/blobs/fs.ts';
import { SIGNING_PROFILE_ARN, SIGNING_PROFILE_NAME } from '../core/signing.ts';
import { REGION_PATTERN } from '../replication/destinations.ts';

export interface InputPattern {
  /** Where it is used and on what. */
  name: string;
  pattern: RegExp;
}

/** The hand-written patterns (V8's engine). */
export const HAND_WRITTEN_PATTERNS: readonly InputPattern[] = [
  { name: 'grammar: repository name', pattern: NAME },
  { name: 'grammar: tag', pattern: TAG },
  { name: 'grammar: digest', pattern: DIGEST },
  { name: 'grammar: digest hex', pattern: LOWER_HEX },
  { name: 'manifest: non-distributable layer media type', pattern: NON_DISTRIBUTABLE },
  { name: 'registry: upload id', pattern: UPLOAD_ID },
  { name: 'blob store: upload file name', pattern: UPLOAD_FILE_NAME },
  ...ROUTES.map((r) => ({ name: `OCI route ${r.pattern.source}`, pattern: r.pattern })),
  { name: 'OCI: blob path of a download URL', pattern: BLOB_PATH },
  { name: 'OCI: Bearer header', pattern: BEARER },
  { name: 'OCI: account-qualified repository name', pattern: ACCOUNT_QUALIFIED_NAME },
  { name: 'OCI: page size n', pattern: PAGE_SIZE },
  { name: 'OCI: Content-Range', pattern: CONTENT_RANGE },
  { name: 'OCI: Range', pattern: RANGE },
  { name: 'SigV4: X-Amz-Date', pattern: AMZ_DATE },
  { name: 'SigV4: header whitespace', pattern: WHITESPACE_RUNS },
  { name: 'SigV4: query plus', pattern: PLUS },
  { name: 'SigV4: reserved characters', pattern: NOT_ENCODED_BY_JS },
  { name: 'identity: Basic header', pattern: BASIC },
  { name: 'identity: user name', pattern: USER_NAME },
  { name: 'identity: policy name', pattern: POLICY_NAME },
  { name: 'identity: account id', pattern: IDENTITY_ACCOUNT_ID },
  { name: 'policy: action', pattern: ACTION },
  { name: 'policy: account id', pattern: ACCOUNT_ID },
  { name: 'policy: principal ARN', pattern: PRINCIPAL_ARN },
  { name: 'policy: service principal', pattern: SERVICE_PRINCIPAL },
  { name: 'policy: identity Sid', pattern: IDENTITY_SID },
  { name: 'policy condition: Bool', pattern: BOOLEAN_TEXT },
  { name: 'policy condition: BinaryEquals', pattern: BASE64_TEXT },
  { name: 'policy condition: number', pattern: NUMBER },
  { name: 'policy condition: epoch date', pattern: EPOCH },
  { name: 'policy condition: ISO date', pattern: ISO },
  { name: 'policy condition: CIDR prefix length', pattern: PREFIX_LENGTH },
  { name: 'policy condition: IPv4-mapped address', pattern: MAPPED_IPV4 },
  { name: 'policy: root ARN', pattern: ROOT_ARN },
  { name: 'policy: account number principal', pattern: ACCOUNT_NUMBER },
  { name: 'policy: variable', pattern: VARIABLE },
  { name: 'policy: non-ASCII text', pattern: NON_ASCII },
  { name: 'ECR: repository ARN', pattern: REPOSITORY_ARN },
  { name: 'OCI: the kind of reference a path ends with', pattern: REFERENCE_KIND },
  { name: 'console: HTML special characters', pattern: HTML_SPECIAL },
  { name: 'console: list separators of a form field', pattern: LIST_SEPARATORS },
  { name: 'console: line breaks of a text area', pattern: LINE_BREAK },
  { name: 'console: the position in a JSON syntax error of a policy typed', pattern: JSON_ERROR_POSITION },
  { name: 'console: the words of an error message about a policy typed', pattern: NOT_WORD },
  { name: 'ECR: base64 blob', pattern: BASE64 },
  { name: 'ECR: end of a Credential access key id', pattern: CREDENTIAL_STOP },
  { name: 'signing: profile name (berth admin create-signing-profile)', pattern: SIGNING_PROFILE_NAME },
  { name: 'signing: signingProfileArn (PutSigningConfiguration)', pattern: SIGNING_PROFILE_ARN },
  { name: 'replication: destination region (berth admin create-replication-destination)', pattern: REGION_PATTERN },
];

/** The ECR model's patterns (RE2), with the shapes that use them. */
export const MODEL_PATTERNS = modelPatterns();
