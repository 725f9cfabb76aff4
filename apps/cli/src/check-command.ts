/** Exit codes of `check`: CI scripts branch on them. */
export const CheckExit = { Fresh: 0, Stale: 1, Unknown: 2, Failed: 3 } as const;

export interface CheckOptions {
  server: string;
  apiKey: string;
  json: boolean;
  timeoutMs: number;
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
}

function describeProblem(text: string): string {
  try {
    const problem = JSON.parse(text) as { detail?: string; title?: string };
    return problem.detail ?? problem.title ?? text;
  } catch {
    return text.slice(0, 500);
  }
}
