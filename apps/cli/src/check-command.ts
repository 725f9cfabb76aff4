/**
 * Exit codes of `check`: CI scripts branch on them. With --require-signed, a signature status
 * other than `verified` also exits 1 (NotVerified), whatever the freshness verdict.
 */
export const CheckExit = { Fresh: 0, Stale: 1, NotVerified: 1, Unknown: 2, Failed: 3 } as const;

export interface CheckOptions {
  server: string;
  apiKey: string;
  json: boolean;
  timeoutMs: number;
  /** Fail unless the signature verdict of the image in its repository is `verified`. */
  requireSigned: boolean;
}

/** The signature summary of a freshness response; null until the image was checked. */
interface SignatureSummary {
  status: string;
  signers: Array<{ identity?: string; keyFingerprint?: string; issuer?: string }>;
  reasons: Array<string | { message?: string; reason?: string; code?: string }>;
  policyScope?: string;
  policyVersion: number | null;
  checkedAt: string;
}

interface FreshnessBody {
  image: string;
  digest: string;
  status: 'fresh' | 'stale' | 'unknown';
  reasons: Array<{ code: string; effect: string; message: string }>;
  baseChain: Array<{
    digest: string;
    status: string;
    tags: Array<{ repository: string; tag: string }>;
  }>;
  computedAt: string | null;
  /** Absent from servers that predate signature verification. */
  signature?: SignatureSummary | null;
}

export interface Output {
  stdout(line: string): void;
  stderr(line: string): void;
}

/** Asks the service for an image's freshness verdict and maps it to an exit code. */
export async function runCheck(
  image: string,
  options: CheckOptions,
  output: Output,
): Promise<number> {
  const url = new URL('/v1/freshness', options.server);
  url.searchParams.set('image', image);
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { Authorization: `Bearer ${options.apiKey}`, Accept: 'application/json' },
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (error) {
    output.stderr(
      `error: cannot reach ${url.origin}: ${error instanceof Error ? error.message : String(error)}`,
    );
    return CheckExit.Failed;
  }
  const text = await response.text();
  if (!response.ok) {
    output.stderr(`error: ${response.status} ${describeProblem(text)}`);
    return CheckExit.Failed;
  }
  let body: FreshnessBody;
  try {
    body = JSON.parse(text) as FreshnessBody;
  } catch {
    output.stderr(`error: the server returned a body that is not JSON`);
    return CheckExit.Failed;
  }

  if (options.json) {
    output.stdout(JSON.stringify(body, null, 2));
  } else {
    printVerdict(body, output);
  }
  if (options.requireSigned) {
    const failure = signatureFailure(body);
    if (failure !== undefined) {
      output.stderr(`error: --require-signed: ${failure}`);
      return CheckExit.NotVerified;
    }
  }
  if (body.status === 'fresh') return CheckExit.Fresh;
  if (body.status === 'stale') return CheckExit.Stale;
  return CheckExit.Unknown;
}

function printVerdict(body: FreshnessBody, output: Output): void {
  output.stdout(`${body.image}: ${body.status}`);
  output.stdout(`  digest: ${body.digest}`);
  for (const reason of body.reasons)
    output.stdout(`  ${reason.code} (${reason.effect}): ${reason.message}`);
  for (const base of body.baseChain) {
    const tags = base.tags.map((tag) => `${tag.repository}:${tag.tag}`).join(', ') || 'untagged';
    output.stdout(`  base: ${base.digest} [${tags}] ${base.status}`);
  }
  if (body.computedAt) output.stdout(`  computed at: ${body.computedAt}`);
  if (body.signature) {
    const signature = body.signature;
    output.stdout(`  signature: ${signature.status} (${describePolicy(signature)})`);
    for (const signer of signature.signers) output.stdout(`  signer: ${describeSigner(signer)}`);
  } else if (body.signature === null) {
    output.stdout('  signature: not checked yet');
  }
}

/** Returns why the image does not pass --require-signed, or undefined when it is verified. */
function signatureFailure(body: FreshnessBody): string | undefined {
  const signature = body.signature;
  if (signature === undefined) {
    return 'the server returned no signature verdict; it may predate signature verification';
  }
  if (signature === null) {
    return `the signatures of ${body.digest} have not been checked yet; retry once the worker has verified them`;
  }
  // NOTE: a verdict made under an older policy version counts until the worker re-verifies the
  // image under the new version; `policyVersion` in the output shows which version decided.
  if (signature.status === 'verified') return undefined;
  const reasons = signature.reasons.map(describeReason).filter((reason) => reason !== '');
  const because = reasons.length > 0 ? `: ${reasons.join('; ')}` : '';
  return `the signature status of ${body.digest} is ${signature.status}, not verified (${describePolicy(signature)})${because}`;
}

function describePolicy(signature: SignatureSummary): string {
  const version =
    signature.policyVersion === null
      ? 'no trust policy saved'
      : `policy version ${signature.policyVersion}`;
  const scope = signature.policyScope ? `, scope ${signature.policyScope}` : '';
  return `${version}${scope}, checked at ${signature.checkedAt}`;
}

function describeSigner(signer: SignatureSummary['signers'][number]): string {
  const parts = [signer.identity, signer.issuer, signer.keyFingerprint];
  return parts.filter((part) => part !== undefined).join(' ') || 'unknown signer';
}

function describeReason(reason: SignatureSummary['reasons'][number]): string {
  if (typeof reason === 'string') return reason;
  return reason.message ?? reason.reason ?? reason.code ?? JSON.stringify(reason);
}

function describeProblem(text: string): string {
  try {
    const problem = JSON.parse(text) as { detail?: string; title?: string };
    return problem.detail ?? problem.title ?? text;
  } catch {
    return text.slice(0, 500);
  }
}
