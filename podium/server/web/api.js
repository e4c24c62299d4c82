// Talking to `podium serve`: every call carries the token in the Authorization header.
// The token lives in sessionStorage (this tab only); it never goes into a URL or a log.

const KEY = "podium.token";

export class ApiError extends Error {
  constructor(status, error, fix) {
    super(error);
    this.status = status;
    this.fix = fix || "";
  }
}

export const token = {
  get: () => sessionStorage.getItem(KEY) || "",
  set: (value) => sessionStorage.setItem(KEY, value),
  forget: () => sessionStorage.removeItem(KEY),
};

function headers(extra = {}) {
  const all = { Accept: "application/json", ...extra };
  const value = token.get();
  if (value) all.Authorization = `Bearer ${value}`;
  return all;
}

async function failure(response) {
  let body = {};
  try {
    body = await response.json();
  } catch {
    body = {};
  }
  return new ApiError(response.status, body.error || `HTTP ${response.status}`, body.fix);
}

/** A JSON call; an error answer becomes an ApiError with the service's error and fix. */
export async function call(method, path, body) {
  const options = { method, headers: headers(), cache: "no-store" };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, options);
  } catch {
    throw new ApiError(0, "the service cannot be reached", "it may be restarting: retrying");
  }
  if (!response.ok) throw await failure(response);
  return response.json();
}

/** POST /stream: call onItem for each NDJSON line (an event, a result or an error). */
export async function stream(body, onItem) {
  let response;
  try {
    response = await fetch("/stream", {
      method: "POST",
      headers: headers({ "Content-Type": "application/json", Accept: "application/x-ndjson" }),
      body: JSON.stringify(body),
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, "the service cannot be reached", "it may be restarting: retrying");
  }
  if (!response.ok) throw await failure(response);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    let chunk;
    try {
      chunk = await reader.read();
    } catch {
      throw new ApiError(0, "the connection to the service was lost during the run",
        "the run goes on in the service: its result shows when it reconnects");
    }
    if (chunk.done) break;
    buffer += decoder.decode(chunk.value, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, end).trim();
      buffer = buffer.slice(end + 1);
      if (line) onItem(JSON.parse(line));
    }
  }
  if (buffer.trim()) onItem(JSON.parse(buffer));
}

/** Watch /health; call onChange(true|false) when the service goes away or comes back. */
export function watchHealth(onChange, every = 2000) {
  let up = true;
  async function probe() {
    let ok = false;
    try {
      const response = await fetch("/health", { cache: "no-store" });
      ok = response.ok;
    } catch {
      ok = false;
    }
    if (ok !== up) {
      up = ok;
      onChange(ok);
    }
    setTimeout(probe, up ? every : 1000);
  }
  setTimeout(probe, every);
}
