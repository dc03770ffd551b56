/* joselab's token workbench: the book's validators, row for row, in the browser.
 *
 * Each profile here mirrors one of joselab's Python validators: the same rows, with the same
 * sections, in the same order, stopping at the first failure (joselab/trace.py). Signatures are
 * verified with WebCrypto through panva's jose (vendored from npm, _static/vendor/jose). Nothing
 * leaves the page: no request, nothing stored. tests/browser/test_workbench.py feeds the hostile
 * corpus and the RFC vectors through both and fails when a verdict or a failing section differs:
 * when a Python validator's rows change, this file changes with them (CONVENTIONS.md).
 *
 * Mirrored modules: joselab/compact.py (strict parsing), joselab/jws.py (verify_jws,
 * verify_signature, select_key, check_crit), joselab/keys.py (key_fits_alg, KeyBinding, load_jwks),
 * joselab/claims.py, and the validators named in PROFILES below.
 */
(function (global) {
  "use strict";

  // -- the trace (joselab/trace.py) -----------------------------------------------------------
  class Fail extends Error {
    constructor(section, name, evidence) {
      super(name);
      this.section = section;
      this.check = name;
      this.evidence = evidence || "";
    }
  }
  class ConfigError extends Error {}

  class Trace {
    constructor(title) {
      this.title = title;
      this.rows = [];
      this.error = null;
      this.result = null;
    }
    check(section, name, passed, evidence) {
      const ev = typeof evidence === "function" ? evidence() : evidence || "";
      this.rows.push({ section, name, outcome: passed ? "pass" : "fail", evidence: ev });
      if (!passed) throw new Fail(section, name, ev);
      return true;
    }
    leniency(option, section, what, evidence) {
      this.rows.push({ section, name: `leniency ${option}: ${what}`, outcome: "pass", evidence: evidence || "" });
    }
    noteFailure(exc) {
      const last = this.rows[this.rows.length - 1];
      if (!last || last.outcome === "pass" || last.section !== exc.section || last.name !== exc.check) {
        this.rows.push({ section: exc.section, name: exc.check, outcome: "fail", evidence: exc.evidence });
      }
      this.error = exc;
    }
    get ok() {
      return this.error === null;
    }
  }

  async function run(trace, body) {
    try {
      await body(trace);
    } catch (exc) {
      if (exc instanceof Fail) trace.noteFailure(exc);
      else if (exc instanceof ConfigError) throw exc;
      else trace.noteFailure(new Fail("joselab", "validator completed", `unexpected ${exc && exc.name}: ${exc && exc.message}`));
    }
    return trace;
  }

  // -- JSON as Python's json reads it, strictly (joselab/compact.py loads_strict) -------------
  const has = (o, k) => o !== null && typeof o === "object" && !Array.isArray(o) && Object.prototype.hasOwnProperty.call(o, k);
  const get = (o, k) => (has(o, k) ? o[k] : null); // Python's dict.get: JSON null and absent are both None
  const isObj = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
  const isStr = (v) => typeof v === "string";
  const MAX_DEPTH = 980; // Python's recursion limit (1000) less the frames above the decoder
  const INT_DIGITS = 4300; // Python 3.11's int max_str_digits: a longer integer is a ValueError

  class JsonError extends Error {
    constructor(kind, message) {
      super(message);
      this.kind = kind; // "syntax" or "duplicate"
    }
  }

  function parseJson(text) {
    let i = 0;
    const n = text.length;
    const ws = () => {
      while (i < n) {
        const c = text.charCodeAt(i);
        if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
        else break;
      }
    };
    const bad = (what) => {
      throw new JsonError("syntax", `${what} at ${i}`);
    };
    function str() {
      i++; // the opening quote
      let out = "";
      let start = i;
      for (;;) {
        if (i >= n) bad("unterminated string");
        const c = text.charCodeAt(i);
        if (c === 0x22) {
          out += text.slice(start, i);
          i++;
          return out;
        }
        if (c < 0x20) bad("control character in string");
        if (c === 0x5c) {
          out += text.slice(start, i);
          const e = text[i + 1];
          const simple = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
          if (e in simple) {
            out += simple[e];
            i += 2;
          } else if (e === "u") {
            const hex = text.slice(i + 2, i + 6);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) bad("invalid \\u escape");
            out += String.fromCharCode(parseInt(hex, 16));
            i += 6;
          } else bad("invalid escape");
          start = i;
          continue;
        }
        i++;
      }
    }
    function num() {
      const m = /^-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/.exec(text.slice(i, i + 100000));
      if (!m || m[0] === "-") bad("expecting value");
      i += m[0].length;
      if (!m[1] && !m[2]) {
        if (m[0].replace("-", "").length > INT_DIGITS) bad("integer exceeds the limit");
        return Number(m[0]);
      }
      const v = Number(m[0]);
      if (!Number.isFinite(v)) bad("number overflows a double");
      return v;
    }
    function value(depth) {
      ws();
      if (i >= n) bad("expecting value");
      const c = text[i];
      if (c === "{" || c === "[") {
        if (depth >= MAX_DEPTH) throw new JsonError("syntax", "RecursionError");
      }
      if (c === "{") {
        i++;
        const obj = Object.create(null);
        const names = new Set();
        let dup = null;
        ws();
        if (text[i] === "}") {
          i++;
          return obj;
        }
        for (;;) {
          ws();
          if (text[i] !== '"') bad("expecting property name");
          const k = str();
          ws();
          if (text[i] !== ":") bad("expecting ':'");
          i++;
          const v = value(depth + 1);
          if (names.has(k) && dup === null) dup = k;
          names.add(k);
          obj[k] = v;
          ws();
          if (text[i] === ",") {
            i++;
            continue;
          }
          if (text[i] === "}") {
            i++;
            // Python's object_pairs_hook runs when the object closes: a duplicate is seen then.
            if (dup !== null) throw new JsonError("duplicate", `duplicate member ${JSON.stringify(dup)}`);
            return obj;
          }
          bad("expecting ',' delimiter");
        }
      }
      if (c === "[") {
        i++;
        const arr = [];
        ws();
        if (text[i] === "]") {
          i++;
          return arr;
        }
        for (;;) {
          arr.push(value(depth + 1));
          ws();
          if (text[i] === ",") {
            i++;
            continue;
          }
          if (text[i] === "]") {
            i++;
            return arr;
          }
          bad("expecting ',' delimiter");
        }
      }
      if (c === '"') return str();
      if (text.startsWith("true", i)) return (i += 4), true;
      if (text.startsWith("false", i)) return (i += 5), false;
      if (text.startsWith("null", i)) return (i += 4), null;
      return num();
    }
    const v = value(0);
    ws();
    if (i !== n) bad("extra data");
    return v;
  }

  function hasLoneSurrogate(value) {
    const stack = [value];
    while (stack.length) {
      const item = stack.pop();
      if (isStr(item)) {
        if (!item.isWellFormed()) return true;
      } else if (Array.isArray(item)) stack.push(...item);
      else if (isObj(item)) for (const k of Object.keys(item)) stack.push(k, item[k]);
    }
    return false;
  }

  const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

  function loadsStrict(bytes, what, section, unique) {
    let text;
    try {
      text = UTF8.decode(bytes);
    } catch (e) {
      throw new Fail("RFC 8725 §3.7", `${what} is UTF-8`, "invalid UTF-8");
    }
    let value;
    try {
      value = parseJson(text);
    } catch (e) {
      if (e.kind === "duplicate") throw new Fail(unique || section, `${what} has unique member names`, e.message);
      throw new Fail(section, `${what} is JSON`, String(e.message).slice(0, 80));
    }
    if (hasLoneSurrogate(value)) throw new Fail("RFC 7493 §2.1", `${what} has no lone surrogate`, "a lone surrogate escape");
    return value;
  }

  function parseJsonObject(bytes, what, section, unique) {
    const value = loadsStrict(bytes, what, section, unique);
    if (!isObj(value)) throw new Fail(section, `${what} is a JSON object`, `top level is ${Array.isArray(value) ? "list" : typeof value}`);
    return value;
  }

  // -- base64url (RFC 7515 §2, canonical: RFC 4648 §3.5) ---------------------------------------
  const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const B64URL = /^[A-Za-z0-9_-]*$/;
  const UNUSED = { 2: 0x0f, 3: 0x03 };

  function b64urlDecode(text, what) {
    if (!isStr(text) || !B64URL.test(text)) {
      throw new Fail("RFC 7515 §2", `${what} is base64url`, "characters outside the base64url alphabet, or padding");
    }
    const tail = text.length % 4;
    if (tail === 1) throw new Fail("RFC 7515 §2", `${what} is base64url`, "impossible length");
    if (tail && ALPHABET.indexOf(text[text.length - 1]) & UNUSED[tail]) {
      throw new Fail("RFC 4648 §3.5", `${what} is canonical base64url`, "non-zero trailing bits");
    }
    const bin = atob(text.replace(/-/g, "+").replace(/_/g, "/") + (tail ? "=".repeat(4 - tail) : ""));
    const out = new Uint8Array(bin.length);
    for (let k = 0; k < bin.length; k++) out[k] = bin.charCodeAt(k);
    return out;
  }
  function b64urlEncode(bytes) {
    let bin = "";
    for (const b of bytes) bin += String.fromCharCode(b);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  const utf8 = (s) => new TextEncoder().encode(s);
  const codePoints = (s) => {
    let count = 0;
    for (const _ of s) count++;
    return count;
  };
  const dots = (s) => s.split(".").length - 1;
  // Python's repr of a list of plain strings, as the validators' row names print one.
  const pyList = (items) => `[${items.map((x) => `'${x}'`).join(", ")}]`;

  // -- compact JWS (joselab/compact.py) --------------------------------------------------------
  const MAX_TOKEN_LENGTH = 32 * 1024;
  const CAP = "joselab policy; RFC 7515 §7.1 and RFC 7516 §7.1 set no bound";

  function checkLength(token, max) {
    if (!isStr(token)) throw new Fail("RFC 7515 §7.1", "token is a string", `got ${typeof token}`);
    const len = codePoints(token);
    if (len > max) throw new Fail(CAP, "token length within the cap", `${len} > ${max} characters`);
    return token;
  }

  function header(segment, rfc) {
    return parseJsonObject(b64urlDecode(segment, "protected header"), "protected header", `${rfc} §5.2`, `${rfc} §4`);
  }

  function parseJws(token, max) {
    const parts = checkLength(token, max || MAX_TOKEN_LENGTH).split(".");
    if (parts.length === 5) throw new Fail("RFC 7515 §7.1", "token is a JWS (three parts)", "five parts: this is a JWE");
    if (parts.length !== 3) throw new Fail("RFC 7515 §7.1", "token is a JWS (three parts)", `${parts.length} parts`);
    const [protectedB64, payloadSegment, sig] = parts;
    const hdr = header(protectedB64, "RFC 7515");
    const signature = b64urlDecode(sig, "signature");
    let payload;
    if (get(hdr, "b64") === false) {
      if (!payloadSegment.isWellFormed()) throw new Fail("RFC 3629 §3", "unencoded payload is UTF-8 text", "a lone surrogate: no UTF-8 encoding");
      payload = utf8(payloadSegment);
    } else payload = b64urlDecode(payloadSegment, "payload");
    return {
      token,
      protectedB64,
      payloadSegment,
      signatureB64: sig,
      header: hdr,
      payload,
      signature,
      claims() {
        return parseJsonObject(payload, "JWT claims set", "RFC 7519 §7.2", "RFC 7519 §4");
      },
    };
  }

  function parseJwe(token) {
    const parts = token.split(".");
    const hdr = header(parts[0], "RFC 7516");
    return { header: hdr, parts };
  }

  // -- keys (joselab/keys.py) ------------------------------------------------------------------
  const MIN_RSA_BITS = 2048;
  const MAX_RSA_BITS = 16384;
  const HMAC_BYTES = { HS256: 32, HS384: 48, HS512: 64 };
  const EC_CURVES = { ES256: "P-256", ES384: "P-384", ES512: "P-521" };
  const OKP_CURVES = { Ed25519: ["Ed25519"], Ed448: ["Ed448"], EdDSA: ["Ed25519", "Ed448"] };
  const MLDSA = ["ML-DSA-44", "ML-DSA-65", "ML-DSA-87"];
  const CURVE_ALGORITHMS = { "EC P-256": "ES256", "EC P-384": "ES384", "EC P-521": "ES512", "OKP Ed25519": "Ed25519", "OKP Ed448": "Ed448" };
  const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];
  const FIXED_SIGNATURE_BYTES = {
    HS256: 32, HS384: 48, HS512: 64, ES256: 64, ES384: 96, ES512: 132, Ed25519: 64, Ed448: 114,
    "ML-DSA-44": 2420, "ML-DSA-65": 3309, "ML-DSA-87": 4627,
  };
  const MIXED_KEYS_MESSAGE =
    "key set mixes secret (oct) keys with public keys: refused (joselab policy; the RS256 → HS256 " +
    "confusion of RFC 8725 §2.1); allow_secret_with_public=True if this is meant";

  function rsaBits(key) {
    const n = b64urlDecode(get(key, "n") || "", "RSA modulus");
    let k = 0;
    while (k < n.length && n[k] === 0) k++;
    if (k === n.length) return 0;
    return (n.length - k - 1) * 8 + (32 - Math.clz32(n[k]));
  }

  function sameAlgorithm(bound, alg, key) {
    if (bound === alg) return true;
    const crv = get(key, "crv");
    return get(key, "kty") === "OKP" && (crv === "Ed25519" || crv === "Ed448") && [bound, alg].every((a) => a === "EdDSA" || a === crv);
  }

  function keyFitsAlg(key, alg) {
    const kty = get(key, "kty");
    const own = get(key, "alg");
    if (own !== null && !(isStr(own) && sameAlgorithm(own, alg, key))) return [false, `key is for ${own}, not ${alg}`];
    const use = get(key, "use");
    if (use !== null && use !== "sig") return [false, `key use is ${JSON.stringify(use)}, not 'sig'`];
    if (alg in HMAC_BYTES) {
      if (kty !== "oct") return [false, `${alg} needs a symmetric (oct) key, not ${kty}`];
      const size = b64urlDecode(get(key, "k") || "", "symmetric key").length;
      if (size < HMAC_BYTES[alg]) return [false, `${alg} key is ${size} bytes, under the ${HMAC_BYTES[alg]} RFC 7518 §3.2 requires`];
      return [true, `oct key of ${size} bytes`];
    }
    if (/^(RS|PS)(256|384|512)$/.test(alg)) {
      if (kty !== "RSA") return [false, `${alg} needs an RSA key, not ${kty}`];
      const bits = rsaBits(key);
      if (bits < MIN_RSA_BITS) return [false, `RSA key of ${bits} bits, under the ${MIN_RSA_BITS} RFC 7518 §3.3 requires`];
      return [true, `RSA key of ${bits} bits`];
    }
    if (alg in EC_CURVES) {
      if (kty !== "EC" || get(key, "crv") !== EC_CURVES[alg]) return [false, `${alg} needs an EC ${EC_CURVES[alg]} key, not ${kty} ${get(key, "crv") || ""}`.trim()];
      return [true, `EC ${get(key, "crv")} key`];
    }
    if (MLDSA.includes(alg)) {
      if (kty !== "AKP" || get(key, "alg") !== alg) return [false, `${alg} needs an AKP key with alg ${alg}`];
      return [true, `AKP ${alg} key`];
    }
    if (alg in OKP_CURVES) {
      if (kty !== "OKP" || !OKP_CURVES[alg].includes(get(key, "crv"))) return [false, `${alg} needs an OKP ${OKP_CURVES[alg].join("/")} key, not ${kty} ${get(key, "crv") || ""}`.trim()];
      return [true, `OKP ${get(key, "crv")} key`];
    }
    return [false, `${alg} is not a signature algorithm joselab knows`];
  }

  function fitsType(key, alg) {
    const kty = get(key, "kty");
    if (alg in HMAC_BYTES) return kty === "oct";
    if (alg.startsWith("RS") || alg.startsWith("PS")) return kty === "RSA";
    if (alg in EC_CURVES) return kty === "EC" && get(key, "crv") === EC_CURVES[alg];
    if (alg in OKP_CURVES) return kty === "OKP" && OKP_CURVES[alg].includes(get(key, "crv"));
    return false;
  }

  // KeyBinding() with its defaults: by the JWK's alg, the curve, or the one allowed algorithm.
  function algorithmFor(key, allowed) {
    const kty = String(get(key, "kty"));
    let crv = get(key, "crv");
    crv = isStr(crv) ? crv : null;
    const own = get(key, "alg");
    if (own !== null) {
      if (!isStr(own)) return [null, "its JWK's alg is not a string"];
      return [own, `${own}, its JWK's alg`];
    }
    const curve = CURVE_ALGORITHMS[`${kty} ${crv}`];
    if (crv !== null && curve) return [curve, `${curve}, the one algorithm of curve ${crv}`];
    const fitting = [...new Set(allowed.filter((a) => isStr(a) && fitsType(key, a)))].sort();
    if (fitting.length === 1) return [fitting[0], `${fitting[0]}, the one ${kty} algorithm on the allowlist`];
    if (!fitting.length) return [null, `${kty} key has no alg, and no allowed algorithm takes it`];
    return [null, `${kty} key has no alg and the allowlist has ${JSON.stringify(fitting)}: configure its algorithm (by kid or key type)`];
  }

  const mixesSecretAndPublic = (keys) => {
    const types = new Set(keys.map((k) => get(k, "kty")));
    return types.has("oct") && [...types].some((t) => t !== "oct");
  };

  /** A JWK Set as joselab.keys.load_jwks reads it (public keys only); a refusal is a ConfigError. */
  function loadJwks(text) {
    if (!text || !text.trim()) return { keys: [] };
    let data;
    try {
      data = loadsStrict(utf8(text), "JWK Set", "RFC 7517 §5");
    } catch (e) {
      throw new ConfigError(`JWK Set is not JSON, or not strict JSON (RFC 7517 §5): ${e.check} (${e.evidence})`);
    }
    if (!isObj(data) || !Array.isArray(get(data, "keys"))) throw new ConfigError('a JWK Set is an object with a "keys" array (RFC 7517 §5)');
    if (data.keys.length > 64) throw new ConfigError(`JWK Set has ${data.keys.length} keys, over the 64 cap (joselab policy; RFC 7517 §5 sets no bound)`);
    const seen = new Map();
    data.keys.forEach((entry, i) => {
      if (!isObj(entry)) throw new ConfigError(`key ${i} is not an object`);
      if (PRIVATE_MEMBERS.some((m) => has(entry, m))) throw new ConfigError(`key ${i} has private or symmetric key material in a public JWK Set`);
      const kid = get(entry, "kid");
      if (kid !== null) {
        if (!isStr(kid)) throw new ConfigError(`key ${i} has a kid that is not a string`);
        if (seen.has(kid)) throw new ConfigError(`kid ${JSON.stringify(kid)} names two keys; RFC 7517 §4.5`);
        seen.set(kid, get(entry, "kty"));
      }
      if (get(entry, "kty") === "RSA" && has(entry, "n")) {
        let bits;
        try {
          bits = rsaBits(entry);
        } catch (e) {
          throw new ConfigError(`key ${i} has a malformed RSA modulus`);
        }
        if (bits < MIN_RSA_BITS) throw new ConfigError(`key ${i} is RSA ${bits} bits, under ${MIN_RSA_BITS} (RFC 7518 §3.3)`);
        if (bits > MAX_RSA_BITS) throw new ConfigError(`key ${i} is RSA ${bits} bits, over ${MAX_RSA_BITS} (joselab policy)`);
      }
      if (!["RSA", "EC", "OKP", "AKP"].includes(get(entry, "kty"))) throw new ConfigError(`key ${i} is not a valid JWK: kty ${JSON.stringify(get(entry, "kty"))}`);
    });
    return { keys: data.keys };
  }

  // -- verify_jws / verify_signature (joselab/jws.py) ------------------------------------------
  const JOSE_DEFINED_HEADERS = new Set([
    "alg", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty", "crit",
    "enc", "zip", "epk", "apu", "apv", "iv", "tag", "p2s", "p2c",
  ]);
  const EMBEDDED_KEY_HEADERS = ["jwk", "jku", "x5u", "x5c"];

  function checkCrit(hdr, understood) {
    const section = "RFC 7515 §4.1.11";
    const crit = hdr.crit;
    const shown = JSON.stringify(crit).slice(0, 60);
    if (!Array.isArray(crit) || !crit.length) throw new Fail(section, "crit is a non-empty array", `crit = ${shown}`);
    if (!crit.every(isStr)) throw new Fail(section, "crit lists strings", `crit = ${shown}`);
    if (new Set(crit).size !== crit.length) throw new Fail(section, "crit has no duplicates", `crit = ${shown}`);
    const defined = crit.filter((c) => JOSE_DEFINED_HEADERS.has(c));
    if (defined.length) throw new Fail(section, "crit lists no name the JOSE specs define", `${JSON.stringify(defined.sort())} listed`);
    const absent = crit.filter((c) => !has(hdr, c));
    if (absent.length) throw new Fail(section, "every name in crit is present", `${JSON.stringify(absent)} absent`);
    const unknown = crit.filter((c) => !understood.includes(c));
    if (unknown.length) throw new Fail(section, "every name in crit is understood", `${JSON.stringify(unknown)} not understood`);
    return `crit = ${JSON.stringify(crit)}, all understood`;
  }

  /** select_key over a JWK Set (a list of JWK objects). */
  function selectKey(keys, hdr) {
    const section = "RFC 7515 §4.1.4";
    const kid = get(hdr, "kid");
    if (has(hdr, "kid") && !isStr(kid)) throw new Fail(section, "kid is a string", `kid = ${JSON.stringify(kid).slice(0, 40)}`);
    if (mixesSecretAndPublic(keys)) throw new Fail("joselab policy; RFC 8725 §2.1", "trusted keys: no secret (oct) key beside public keys", MIXED_KEYS_MESSAGE);
    if (kid === null) {
      if (keys.length === 1) return keys[0];
      throw new Fail(section, "kid names a trusted key", `no kid, and ${keys.length} trusted keys`);
    }
    const found = keys.find((k) => get(k, "kid") === kid);
    if (!found) throw new Fail(section, "kid names a trusted key", `kid = ${JSON.stringify(kid)} unknown`);
    return found;
  }

  async function signatureVerifies(alg, key, parsed) {
    const jose = global.jose;
    if (!jose) return false;
    const ops = get(key, "key_ops");
    try {
      const jwk = {};
      for (const k of Object.keys(key)) if (!["alg", "use", "key_ops", "ext"].includes(k)) jwk[k] = key[k];
      if (ops !== null) jwk.key_ops = ops;
      const imported = await jose.importJWK(jwk, alg);
      await jose.flattenedVerify(
        { protected: parsed.protectedB64, payload: parsed.payloadSegment, signature: parsed.signatureB64 },
        imported,
        { algorithms: [alg] },
      );
      return true;
    } catch (e) {
      return false;
    }
  }

  function signatureBytes(alg, key) {
    if (alg === "EdDSA") return FIXED_SIGNATURE_BYTES[String(get(key, "crv"))] || 0;
    if (alg in FIXED_SIGNATURE_BYTES) return FIXED_SIGNATURE_BYTES[alg];
    return Math.floor((rsaBits(key) + 7) / 8);
  }

  /** verify_jws: the parse row, the profile's header rows, then verify_signature's rows. */
  async function verifyJws(trace, token, opts) {
    let parsed;
    parsed = parseJws(token, opts.maxLength);
    trace.check("RFC 7515 §7.1", "compact JWS: three base64url parts, header a JSON object", true, `${codePoints(token)} characters`);
    if (opts.checkHeader) opts.checkHeader(parsed);
    const hdr = parsed.header;
    const alg = get(hdr, "alg");
    const allowed = opts.algorithms.filter((a) => a !== "none").sort();
    trace.check("RFC 8725 §3.1", `alg on the allowlist ${pyList(allowed)}`, isStr(alg) && allowed.includes(alg), `alg = ${JSON.stringify(alg)}`);
    if (has(hdr, "b64")) {
      trace.check("RFC 7797 §3", "b64 is a JSON boolean", typeof hdr.b64 === "boolean", `b64 = ${JSON.stringify(hdr.b64).slice(0, 40)}`);
    }
    if (get(hdr, "b64") === false) {
      const crit = get(hdr, "crit");
      trace.check("RFC 7797 §6", "b64: false is listed in crit", Array.isArray(crit) && crit.includes("b64"), has(hdr, "crit") ? `crit = ${JSON.stringify(crit)}` : "no crit");
    }
    for (const [name, section] of [["typ", "RFC 7515 §4.1.9"], ["cty", "RFC 7515 §4.1.10"]]) {
      if (has(hdr, name) && !isStr(hdr[name])) trace.check(section, `${name} is a string`, false, `${name} = ${JSON.stringify(hdr[name])}`);
    }
    if (has(hdr, "crit")) {
      let ok = true;
      let evidence;
      try {
        evidence = checkCrit(hdr, opts.understoodCrit || []);
      } catch (e) {
        if (!(e instanceof Fail)) throw e;
        ok = false;
        evidence = `${e.check}: ${e.evidence}`;
      }
      trace.check("RFC 7515 §4.1.11", "crit: well formed, every name understood", ok, evidence);
    }
    const embedded = EMBEDDED_KEY_HEADERS.filter((k) => has(hdr, k));
    trace.check(
      "RFC 8725 §3.10",
      "no key or key URL taken from the token (jwk, jku, x5u, x5c)",
      !embedded.length,
      embedded.length ? `header has ${JSON.stringify(embedded)}` : "none present",
    );
    const key = opts.selectKey ? opts.selectKey(hdr) : selectKey(opts.keys, hdr);
    let [fits, why] = keyFitsAlg(key, alg);
    if (fits) {
      const [served, how] = algorithmFor(key, allowed);
      if (served === null) [fits, why] = [false, how];
      else if (!sameAlgorithm(served, alg, key)) [fits, why] = [false, `serves ${how}, not ${alg}`];
      else why = `serves ${how}; ${why}`;
    }
    const kid = get(key, "kid");
    trace.check("RFC 8725 §3.1", `the key kid selects is one for ${alg}`, fits, `kid=${JSON.stringify(kid)}: ${why}`);
    const expected = signatureBytes(alg, key);
    trace.check("RFC 7518 §3", `signature is ${expected} bytes, as ${alg} defines`, parsed.signature.length === expected, `${parsed.signature.length} bytes`);
    const verified = await signatureVerifies(alg, key, parsed);
    trace.check(opts.signatureSection || "RFC 7515 §5.2", `${alg} signature verifies`, verified, `kid=${JSON.stringify(kid)}, over the exact signing input (WebCrypto, through jose)`);
    return parsed;
  }

  // -- claims (joselab/claims.py) -------------------------------------------------------------
  const ev = (v) => {
    const text = v === undefined ? "null" : JSON.stringify(v);
    return text.length <= 80 ? text : text.slice(0, 77) + "...";
  };
  const isNumericDate = (v) => typeof v === "number" && v === v && Math.abs(v) < 1e15;
  function normaliseTyp(value) {
    value = value.toLowerCase();
    return value.startsWith("application/") ? value.slice("application/".length) : value;
  }
  function checkTyp(trace, hdr, accepted, section) {
    const typ = get(hdr, "typ");
    const want = accepted.map(normaliseTyp);
    trace.check(section, `typ is ${[...accepted].sort().join(" or ")}`, isStr(typ) && want.includes(normaliseTyp(typ)), `typ = ${ev(typ)}`);
  }
  function checkRequired(trace, claims, names, section) {
    const missing = names.filter((n) => !has(claims, n));
    trace.check(section, `required claims present: ${names.join(", ")}`, !missing.length, missing.length ? `missing ${JSON.stringify(missing)}` : "all present");
  }
  function checkIssuer(trace, claims, expected, section) {
    const iss = get(claims, "iss");
    trace.check(section, `iss equals ${ev(expected)}`, isStr(iss) && iss === expected, `iss = ${ev(iss)}`);
  }
  function audiences(claims) {
    const aud = get(claims, "aud");
    if (isStr(aud)) return [aud];
    if (Array.isArray(aud) && aud.length && aud.every(isStr)) return aud;
    return null;
  }
  function checkAudience(trace, claims, expected, section, trusted) {
    const auds = audiences(claims);
    trace.check(section, `aud contains ${ev(expected)}`, auds !== null && auds.includes(expected), `aud = ${ev(get(claims, "aud"))}`);
    if (trusted !== undefined && auds !== null) {
      const extra = auds.filter((a) => a !== expected && !trusted.includes(a));
      trace.check(section, "no untrusted extra audience", !extra.length, extra.length ? `untrusted ${JSON.stringify(extra)}` : "none");
    }
  }
  function checkNumeric(trace, claims, name, section, required) {
    if (!has(claims, name)) {
      trace.check(section, `${name} present`, !required, "absent");
      return null;
    }
    const value = claims[name];
    trace.check(section, `${name} is a NumericDate`, isNumericDate(value), `${name} = ${ev(value)}`);
    return value;
  }
  const policy = (section, what) => `joselab policy; ${section} ${what || "sets no bound"}`;
  function checkExpiry(trace, claims, now, leeway, section, required = true, maxLifetime = null) {
    const exp = checkNumeric(trace, claims, "exp", section, required);
    if (exp !== null) {
      trace.check(section, `now is before exp (+${leeway}s leeway, joselab policy)`, now < exp + leeway, `now=${now}, exp=${Math.trunc(exp)}`);
      if (maxLifetime !== null) {
        trace.check(policy(section), `exp at most ${maxLifetime}s from now`, exp - now <= maxLifetime + leeway, `exp - now = ${Math.trunc(exp - now)}s`);
      }
    }
  }
  function checkNotBefore(trace, claims, now, leeway, section) {
    const nbf = checkNumeric(trace, claims, "nbf", section, false);
    if (nbf !== null) {
      trace.check(section, `now is not before nbf (-${leeway}s leeway, joselab policy)`, now + leeway >= nbf, `now=${now}, nbf=${Math.trunc(nbf)}`);
    }
  }
  function checkIssuedAt(trace, claims, now, leeway, section, { required = true, maxAge = null, maxLifetime = null } = {}) {
    const iat = checkNumeric(trace, claims, "iat", section, required);
    if (iat === null) return;
    trace.check(section, `iat is not in the future (+${leeway}s leeway, joselab policy)`, iat <= now + leeway, `now=${now}, iat=${Math.trunc(iat)}`);
    if (maxAge !== null) {
      trace.check(policy(section), `iat is at most ${maxAge}s old`, now - iat <= maxAge + leeway, `age ${Math.trunc(now - iat)}s`);
    }
    if (maxLifetime !== null && isNumericDate(get(claims, "exp"))) {
      const life = claims.exp - iat;
      trace.check(policy(section), `lifetime exp - iat at most ${maxLifetime}s`, life <= maxLifetime, `${Math.trunc(life)}s`);
    }
  }
  function checkString(trace, claims, name, section, required = true) {
    if (!has(claims, name)) {
      trace.check(section, `${name} present`, !required, "absent");
      return null;
    }
    const value = claims[name];
    trace.check(section, `${name} is a non-empty string`, isStr(value) && value.length > 0, `${name} = ${ev(value)}`);
    return value;
  }

  // -- Python's urllib.parse.urlsplit, as far as is_https_url reads it -------------------------
  function isHttpsUrl(value) {
    if (!isStr(value) || codePoints(value) > 2048) return false;
    let url = value.replace(/^[\x00-\x20]+/, "").replace(/[\t\r\n]/g, "");
    const m = /^([A-Za-z][A-Za-z0-9+\-.]*):/.exec(url);
    if (!m) return false;
    const scheme = m[1].toLowerCase();
    url = url.slice(m[0].length);
    let netloc = "";
    if (url.startsWith("//")) {
      const rest = url.slice(2);
      const end = rest.search(/[/?#]/);
      netloc = end < 0 ? rest : rest.slice(0, end);
      if ((netloc.includes("[") && !netloc.includes("]")) || (netloc.includes("]") && !netloc.includes("["))) return false; // ValueError
    }
    if (scheme !== "https" || value.includes("#")) return false;
    let host = netloc.slice(netloc.lastIndexOf("@") + 1);
    if (host.startsWith("[")) {
      const close = host.indexOf("]");
      host = host.slice(1, close < 0 ? undefined : close);
    } else host = host.split(":")[0];
    return host.length > 0;
  }

  // -- the profiles ---------------------------------------------------------------------------
  function times(opts) {
    const now = opts.now;
    if (!Number.isSafeInteger(now)) throw new ConfigError("now must be a NumericDate: whole seconds since 1970");
    return now;
  }
  const csv = (s, dflt) => (s && s.trim() ? s.split(/[\s,]+/).filter(Boolean) : dflt);

  // joselab.jws.verify_jws
  async function plainJws(token, opts) {
    const keys = loadJwks(opts.jwks).keys;
    const algorithms = csv(opts.algorithms, PROFILES.jws.algorithms);
    const trace = new Trace("RFC 7515 §5.2: a compact JWS, verified");
    return run(trace, async (t) => {
      t.result = (await verifyJws(t, token, { keys, algorithms })).payload;
    });
  }

  // joselab.access_token.AccessTokenValidator (RFC 9068 §4)
  async function accessToken(token, opts) {
    const keys = loadJwks(opts.jwks).keys;
    const algorithms = csv(opts.algorithms, PROFILES.access_token.algorithms);
    const now = times(opts);
    const leeway = 60;
    const trace = new Trace("RFC 9068 §4: access token at the resource server");
    return run(trace, async (t) => {
      if (isStr(token) && codePoints(token) <= MAX_TOKEN_LENGTH && dots(token) === 4) {
        t.check("RFC 9068 §4 (2)", "not encrypted: no encryption agreed with the AS", false, "five parts: a JWE");
      }
      const parsed = await verifyJws(t, token, {
        keys,
        algorithms,
        signatureSection: "RFC 9068 §4 (5)",
        checkHeader: (p) => {
          checkTyp(t, p.header, ["at+jwt", "application/at+jwt"], "RFC 9068 §4 (1)");
          t.check("RFC 9068 §4 (2)", "not encrypted: no encryption agreed with the AS", true, "a signed JWT (JWS, three parts)");
        },
      });
      const claims = parsed.claims();
      checkIssuer(t, claims, opts.issuer, "RFC 9068 §4 (3)");
      checkAudience(t, claims, opts.audience, "RFC 9068 §4 (4)");
      checkExpiry(t, claims, now, leeway, "RFC 9068 §4 (6)");
      if (has(claims, "nbf")) checkNotBefore(t, claims, now, leeway, "RFC 7519 §4.1.5");
      checkIssuedAt(t, claims, now, leeway, "RFC 7519 §4.1.6", { maxLifetime: 3600 });
      checkRequired(t, claims, ["iss", "exp", "aud", "sub", "client_id", "iat", "jti"], "RFC 9068 §2.2");
      for (const name of ["sub", "client_id", "jti"]) checkString(t, claims, name, "RFC 9068 §2.2");
      if (has(claims, "auth_time")) checkNumeric(t, claims, "auth_time", "RFC 9068 §2.2.1", false);
      if (has(claims, "acr")) t.check("RFC 9068 §2.2.1", "acr is a string", isStr(claims.acr), `acr = ${ev(claims.acr)}`);
      if (has(claims, "amr")) {
        const amr = claims.amr;
        t.check("RFC 9068 §2.2.1", "amr is an array of strings", Array.isArray(amr) && amr.every(isStr), `amr = ${ev(amr)}`);
      }
      if (has(claims, "scope")) {
        const scope = claims.scope;
        const ok = isStr(scope) && /^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/.test(scope);
        t.check("RFC 9068 §2.2.3", "scope is a space-delimited string", ok, `scope = ${ev(scope)}`);
      }
      if (has(claims, "cnf")) checkConfirmation(t, claims);
      t.result = claims;
    });
  }

  // joselab.cnf.check_confirmation for a token presented as a Bearer token on a connection without a
  // client certificate (presented=None): the workbench sees no TLS connection and no DPoP proof.
  const SHA256_B64URL = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;
  function checkConfirmation(t, claims) {
    const cnf = claims.cnf;
    t.check("RFC 7800 §3.1", "cnf is a JSON object", isObj(cnf), `cnf = ${ev(cnf)}`);
    const known = ["x5t#S256", "jkt"].filter((m) => has(cnf, m));
    t.check(policy("RFC 7800 §3.1", "leaves required members open"), "cnf carries a confirmation method this resource server checks (x5t#S256, jkt)", known.length > 0, `methods: ${known.join(", ") || "none"}`);
    const format = (section, member) => {
      const value = cnf[member];
      t.check(section, `cnf.${member} is a base64url SHA-256 value (43 characters, no padding)`, isStr(value) && SHA256_B64URL.test(value), `cnf.${member} = ${ev(value)}`);
    };
    if (has(cnf, "x5t#S256")) {
      format("RFC 8705 §3.1", "x5t#S256");
      t.check("RFC 8705 §3, §3.1", "the client certificate of this TLS connection is the one the token is bound to", false, "no client certificate on this connection (the workbench sees no TLS connection)");
    }
    if (has(cnf, "jkt")) {
      format("RFC 9449 §6.1", "jkt");
      t.check("RFC 9449 §7.1, §7.2", "a DPoP-bound token is presented with the DPoP scheme, not as a bearer token", false, 'Authorization scheme = "Bearer" (check the DPoP proof with the DPoP profile)');
    }
  }

  // joselab.id_token.IdTokenValidator (OIDC Core §3.1.3.7), the token response's ID token seen for
  // the first time (an empty nonce store), with the nonce the request sent.
  async function idToken(token, opts) {
    const keys = loadJwks(opts.jwks).keys;
    const algorithms = csv(opts.algorithms, PROFILES.id_token.algorithms);
    const registered = algorithms[0];
    const now = times(opts);
    const leeway = 60;
    const iatWindow = 600;
    const clientId = opts.clientId;
    const nonce = opts.nonce === "" || opts.nonce === undefined ? null : opts.nonce;
    const STEP = (n) => `OIDC Core §3.1.3.7 (${n})`;
    const trace = new Trace("OIDC Core §3.1.3.7: ID token validation at the client");
    return run(trace, async (t) => {
      const kind = isStr(token) && dots(token) === 4 ? "JWE" : "JWS";
      t.check(
        STEP(1),
        "not encrypted (no encryption registered)",
        kind !== "JWE",
        kind === "JWE" ? "a JWE arrived, but this client registered no ID token encryption" : "a JWS, as registered",
      );
      const parsed = await verifyJws(t, token, {
        algorithms,
        signatureSection: STEP(6),
        selectKey: (hdr) => {
          if (has(hdr, "kid") && !isStr(hdr.kid)) throw new Fail("RFC 7515 §4.1.4", "kid is a string", `kid = ${JSON.stringify(hdr.kid)}`);
          const alg = get(hdr, "alg");
          if (isStr(alg) && alg.startsWith("HS")) throw new Fail(STEP(8), "HS* key is the client_secret", "the workbench takes no client_secret");
          return selectKey(keys, hdr);
        },
        checkHeader: (p) => {
          const typ = get(p.header, "typ");
          t.check(
            "RFC 8725 §3.11",
            "typ absent or JWT (not an access token or another kind of JWT)",
            !has(p.header, "typ") || (isStr(typ) && normaliseTyp(typ) === "jwt"),
            `typ = ${ev(typ)}`,
          );
          const claims = p.claims();
          const required = ["iss", "sub", "aud", "exp", "iat"];
          const missing = required.filter((n) => !has(claims, n));
          t.check("OIDC Core §2", "required claims present: " + required.join(", "), !missing.length, missing.length ? `missing ${JSON.stringify(missing)}` : "all present");
          const sub = claims.sub;
          t.check("OIDC Core §2", "sub is a string of 1-255 ASCII characters", isStr(sub) && sub.length > 0 && sub.length <= 255 && /^[\x00-\x7f]*$/.test(sub), `sub = ${ev(sub)}`);
          checkIssuer(t, claims, opts.issuer, STEP(2));
          checkAudience(t, claims, clientId, STEP(3), []);
          if (!has(claims, "azp")) {
            t.check(STEP(4), "azp absent (no extension in use defines it)", true, "absent");
            return;
          }
          const azp = claims.azp;
          t.check(STEP(4), "azp is a StringOrURI (no extension in use defines more)", isStr(azp) && azp.length > 0, `azp = ${ev(azp)}`);
          t.check(STEP(5), `azp equals the client_id ${ev(clientId)}`, azp === clientId, `azp = ${ev(azp)}`);
        },
      });
      const claims = parsed.claims();
      const alg = parsed.header.alg;
      t.check(STEP(7), `alg is the registered id_token_signed_response_alg ${registered}`, alg === registered, `alg = ${alg}`);
      t.check(STEP(8), "not a MAC alg: the Issuer's published key was used", true, `alg = ${alg}`);
      checkExpiry(t, claims, now, leeway, STEP(9));
      if (has(claims, "nbf")) checkNotBefore(t, claims, now, leeway, "RFC 7519 §4.1.5");
      checkIssuedAt(t, claims, now, leeway, STEP(10), { maxAge: iatWindow, maxLifetime: 3600 });
      const value = get(claims, "nonce");
      if (nonce === null) {
        t.check(STEP(11), "no nonce sent, and none in the token", value === null, value === null ? "absent" : "present");
      } else {
        t.check(STEP(11), "nonce present", value !== null, value !== null ? "present" : "absent");
        const same = isStr(value) && value === nonce;
        t.check(STEP(11), "nonce equals the one sent in the request", same, same ? "equal" : "differs");
        t.check(STEP(11), "nonce not seen before (replay)", true, "first use: the workbench keeps no nonce store (a first sight)");
      }
      t.check(STEP(12), "acr not requested: nothing to check", true, `acr = ${ev(get(claims, "acr"))}`);
      t.check(STEP(13), "max_age not sent: nothing to check", true, "auth_time not requested");
      t.result = claims;
    });
  }

  // joselab.registration.SoftwareStatementValidator: one trusted directory, its issuer and JWK Set.
  async function softwareStatement(token, opts) {
    const keys = loadJwks(opts.jwks).keys;
    const algorithms = csv(opts.algorithms, PROFILES.software_statement.algorithms);
    const now = times(opts);
    const leeway = 30;
    const OB_SSA = "OB Directory SSA";
    const REQUIRED = ["iss", "iat", "jti", "software_id", "software_client_name", "software_redirect_uris", "software_roles", "software_jwks_endpoint", "org_id", "org_name", "org_status"];
    const ROLES = ["AISP", "ASPSP", "CBPII", "PISP"];
    const stringList = (v) => Array.isArray(v) && v.length > 0 && v.every((x) => isStr(x) && x.length > 0);
    const trace = new Trace("RFC 7591 §2.3: the software statement, at the AS");
    return run(trace, async (t) => {
      const parsed = await verifyJws(t, token, {
        algorithms,
        selectKey: (hdr) => {
          const kid = get(hdr, "kid");
          if (has(hdr, "kid") && !isStr(kid)) throw new Fail("RFC 7515 §4.1.4", "kid is a string", `kid = ${JSON.stringify(kid)}`);
          const found = kid === null ? null : keys.find((k) => get(k, "kid") === kid);
          if (!found) throw new Fail("RFC 7515 §4.1.4", "kid names a trusted key", `kid = ${JSON.stringify(kid)} unknown`);
          return found;
        },
        checkHeader: (p) => {
          const alg = get(p.header, "alg");
          t.check("RFC 7591 §2.3", "statement is signed (alg is not none)", !(isStr(alg) && alg.toLowerCase() === "none"), `alg = ${ev(alg)}`);
          const typ = get(p.header, "typ");
          t.check(OB_SSA, "typ is JWT", typ === "JWT", `typ = ${ev(typ)}`);
        },
      });
      const claims = parsed.claims();
      checkIssuer(t, claims, opts.issuer, "RFC 8725 §3.8");
      const present = ["aud", "software_statement"].filter((n) => has(claims, n));
      t.check("RFC 8725 §3.12", "no aud, no software_statement: a statement, not a registration request", !present.length, present.length ? `has ${JSON.stringify(present)}` : "neither present");
      const missing = REQUIRED.filter((n) => !has(claims, n));
      t.check(OB_SSA, `the ${REQUIRED.length} claims of an SSA present (iss, iat, jti, software_*, org_*)`, !missing.length, missing.length ? `missing ${JSON.stringify(missing)}` : "all present");
      checkIssuedAt(t, claims, now, leeway, "RFC 7519 §4.1.6", { maxAge: 86400 });
      if (has(claims, "exp")) checkExpiry(t, claims, now, leeway, "RFC 7519 §4.1.4");
      if (has(claims, "nbf")) checkNotBefore(t, claims, now, leeway, "RFC 7519 §4.1.5");
      const jti = get(claims, "jti");
      t.check(policy("RFC 7519 §4.1.7"), "jti is a string of 1 to 256 characters", isStr(jti) && jti.length > 0 && codePoints(jti) <= 256, isStr(jti) ? `${codePoints(jti)} characters` : `jti = ${ev(jti)}`);
      const names = ["software_id", "software_client_name", "org_id", "org_name"];
      const bad = names.filter((n) => !(isStr(claims[n]) && claims[n]));
      t.check(OB_SSA, `${names.join(", ")} are non-empty strings`, !bad.length, bad.length ? `not strings: ${JSON.stringify(bad)}` : "all are");
      const uris = claims.software_redirect_uris;
      t.check(OB_SSA, "software_redirect_uris: non-empty array of https URLs", stringList(uris) && uris.every(isHttpsUrl), ev(uris));
      const roles = claims.software_roles;
      t.check(OB_SSA, `software_roles: non-empty array of ${pyList(ROLES)}`, stringList(roles) && roles.every((r) => ROLES.includes(r)), ev(roles));
      const endpoint = claims.software_jwks_endpoint;
      t.check(OB_SSA, "software_jwks_endpoint is an https URL", isHttpsUrl(endpoint), ev(endpoint));
      const status = claims.org_status;
      t.check(OB_SSA, 'org_status is "Active"', status === "Active", `org_status = ${ev(status)}`);
      t.result = claims;
    });
  }

  // joselab.client_assertion.ClientAssertionValidator (RFC 7523 §3 as RFC 10070 §4 updates it; OIDC
  // Core §9): one registered client, #client-id, whose keys are the JWK Set; the form carried no
  // client_id (RFC 7521 §4.2: the assertion's sub names the client); the jti store is empty (a first sight).
  async function clientAssertion(token, opts) {
    const keys = loadJwks(opts.jwks).keys;
    const algorithms = csv(opts.algorithms, PROFILES.client_assertion.algorithms);
    const now = times(opts);
    const leeway = 60;
    const maxLifetime = 300;
    const registered = opts.clientId;
    const TYP_NAME = "typ is client-authentication+jwt, JWT or absent: no other explicit type";
    const trace = new Trace("RFC 7523 §3, RFC 10070 §4: client assertion at the token endpoint");
    return run(trace, async (t) => {
      let who = null;
      const parsed = await verifyJws(t, token, {
        algorithms,
        signatureSection: "RFC 7523 §3 (9)",
        checkHeader: (p) => {
          if (!has(p.header, "typ")) t.check("RFC 10070 §4", TYP_NAME, true, "no typ (accepted: not rejected for lack of an explicit type)");
          else if (isStr(p.header.typ)) {
            const ok = ["client-authentication+jwt", "jwt"].includes(normaliseTyp(p.header.typ));
            t.check(ok ? "RFC 10070 §4" : "RFC 8725 §3.12", TYP_NAME, ok, `typ = ${ev(p.header.typ)}`);
          }
          let sub = null;
          try {
            sub = get(p.claims(), "sub");
          } catch (e) {
            if (!(e instanceof Fail)) throw e;
          }
          const known = isStr(sub) && sub.length > 0 && registered !== "" && sub === registered;
          t.check("RFC 7521 §4.2", "the client it names is registered, with keys", known, `client_id = ${ev(sub)}, from the assertion's sub (not yet verified)`);
          who = sub;
        },
        selectKey: (hdr) => selectKey(keys, hdr),
      });
      const claims = parsed.claims();
      const iss = get(claims, "iss");
      const sub = get(claims, "sub");
      t.check("RFC 7523 §3 (1)", "iss is the client_id", isStr(iss) && iss === who, `iss = ${ev(iss)}, client_id = ${ev(who)}`);
      t.check("RFC 7523 §3 (2)", "sub is the client_id", isStr(sub) && sub === who, `sub = ${ev(sub)}, client_id = ${ev(who)}`);
      const aud = get(claims, "aud");
      const audOk = isStr(aud) ? aud === opts.issuer : Array.isArray(aud) && aud.length === 1 && aud[0] === opts.issuer;
      t.check("RFC 10070 §4", `aud is ${ev(opts.issuer)}, the AS's issuer identifier, as its sole value`, audOk, `aud = ${ev(aud)}`);
      checkExpiry(t, claims, now, leeway, "RFC 7523 §3 (4)", true, maxLifetime);
      if (has(claims, "nbf")) checkNotBefore(t, claims, now, leeway, "RFC 7523 §3 (5)");
      if (has(claims, "iat")) checkIssuedAt(t, claims, now, leeway, "RFC 7523 §3 (6)", { required: false, maxLifetime });
      const jti = checkString(t, claims, "jti", "OIDC Core §9");
      t.check(policy("OIDC Core §9"), "jti is at most 256 characters", isStr(jti) && codePoints(jti) <= 256, `${isStr(jti) ? codePoints(jti) : 0} characters`);
      t.check("RFC 7523 §3 (7)", "jti not used before by this client (kept until exp)", true, "first use: the workbench keeps no jti store (a first sight)");
      t.result = claims;
    });
  }

  // joselab.dpop.DPoPProofValidator (RFC 9449 §4.3): the DPoP header's one value, for a request of
  // #htm to #htu; with #access-token, ath and the key binding to cnf.jkt: #jkt, or else the jkt in that
  // token's payload when it is a JWT (the access token profile verifies it); #nonce is the nonce the
  // server provided, if any.
  const DPOP_ASYMMETRIC = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519", "Ed448"];
  const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;
  const PUBLIC_MEMBERS = { EC: ["crv", "kty", "x", "y"], RSA: ["e", "kty", "n"], OKP: ["crv", "kty", "x"] };
  const DEFAULT_PORTS = { https: 443, http: 80 };
  const UNRESERVED = /[A-Za-z0-9\-._~]/;

  async function sha256b64url(text) {
    // Python's text.encode("ascii", "replace"): a character outside ASCII becomes "?".
    const bytes = new Uint8Array([...text].map((c) => (c.codePointAt(0) < 128 ? c.codePointAt(0) : 0x3f)));
    return b64urlEncode(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));
  }

  async function jwkThumbprint(jwk) {
    // RFC 7638 §3 through jose (joselab.cnf.jwk_thumbprint: the required members, sorted, no whitespace).
    return global.jose.calculateJwkThumbprint(jwk, "sha256");
  }

  function removeDotSegments(path) {
    const out = [];
    for (const segment of path.split("/")) {
      if (segment === "..") {
        if (out.length > 1) out.pop();
      } else if (segment !== ".") out.push(segment);
    }
    let result = out.join("/");
    if (path.endsWith("/.") || path.endsWith("/..")) result += "/";
    return result.startsWith("/") ? result : "/" + result;
  }

  /** joselab.dpop.normalize_htu, over Python's urllib.parse.urlsplit. */
  function normalizeHtu(uri) {
    if (!isStr(uri)) return null;
    let url = uri.replace(/^[\x00-\x20]+/, "").replace(/[\x00-\x20]+$/, "").replace(/[\t\r\n]/g, "");
    const m = /^([A-Za-z][A-Za-z0-9+\-.]*):/.exec(url);
    if (!m) return null;
    const scheme = m[1].toLowerCase();
    url = url.slice(m[0].length);
    if (!url.startsWith("//")) return null;
    const rest = url.slice(2);
    const end = rest.search(/[/?#]/);
    const netloc = end < 0 ? rest : rest.slice(0, end);
    let after = end < 0 ? "" : rest.slice(end);
    if ((netloc.includes("[") && !netloc.includes("]")) || (netloc.includes("]") && !netloc.includes("["))) return null;
    const hash = after.indexOf("#");
    if (hash >= 0) after = after.slice(0, hash);
    const q = after.indexOf("?");
    const path = q >= 0 ? after.slice(0, q) : after;
    if (netloc.includes("@")) return null; // userinfo: username or password present
    let host;
    let portText;
    if (netloc.startsWith("[")) {
      const close = netloc.indexOf("]");
      host = netloc.slice(1, close);
      const tail = netloc.slice(close + 1);
      portText = tail.startsWith(":") ? tail.slice(1) : null;
    } else {
      const colon = netloc.indexOf(":");
      host = colon < 0 ? netloc : netloc.slice(0, colon);
      portText = colon < 0 ? null : netloc.slice(colon + 1);
    }
    let port = null;
    if (portText !== null && portText !== "") {
      if (!/^[0-9]+$/.test(portText)) return null;
      port = Number(portText);
      if (port > 65535) return null;
    }
    host = host.toLowerCase();
    if (!(scheme in DEFAULT_PORTS) || !host) return null;
    const plain = port === null || port === DEFAULT_PORTS[scheme];
    let hostPart = plain ? host : `${host}:${port}`;
    if (host.includes(":")) hostPart = `[${host}]` + (plain ? "" : `:${port}`);
    const normalizedPath = removeDotSegments((path || "/").replace(/%([0-9A-Fa-f]{2})/g, (all, hex) => {
      const c = String.fromCharCode(parseInt(hex, 16));
      return UNRESERVED.test(c) ? c : "%" + hex.toUpperCase();
    }));
    return `${scheme}://${hostPart}${normalizedPath}`;
  }

  async function dpopProof(token, opts) {
    const algorithms = csv(opts.algorithms, PROFILES.dpop.algorithms);
    const now = times(opts);
    const iatWindow = 60;
    const accessToken = opts.accessToken ? opts.accessToken : null;
    const nonce = opts.nonce === "" || opts.nonce === undefined ? null : opts.nonce;
    let cnfJkt = opts.jkt ? opts.jkt : null;
    if (accessToken !== null && cnfJkt === null) {
      try {
        cnfJkt = get(get(parseJws(accessToken).claims(), "cnf"), "jkt");
      } catch (e) {
        cnfJkt = null;
      }
    }
    const trace = new Trace("RFC 9449 §4.3: DPoP proof");
    return run(trace, async (t) => {
      t.check("RFC 9449 §4.3 (1)", "exactly one DPoP header field", isStr(token), "1 DPoP header field");
      const section2 = "RFC 9449 §4.3 (2)";
      const name2 = "the DPoP header is a single, well-formed JWT";
      if (codePoints(token) > 8192) t.check(section2, name2, false, `${codePoints(token)} > 8192 characters`);
      if (!TOKEN68.test(token)) t.check(section2, name2, false, "not token68 (RFC 9449 §4.1): a list, a space or another character");
      let parsed;
      let claims;
      try {
        parsed = parseJws(token, 8192);
        claims = parsed.claims();
      } catch (e) {
        if (!(e instanceof Fail)) throw e;
        t.check(section2, name2, false, e.evidence ? `${e.check} (${e.evidence})` : e.check);
      }
      const hdr = parsed.header;
      if (has(hdr, "b64") || has(hdr, "crit")) t.check(section2, name2, false, "crit or b64 in the header: no extension is understood (RFC 7515 §4.1.11)");
      t.check(section2, name2, true, "three parts, strict JSON header and claims");
      // (3) required members, with their types
      const names = ["jti", "htm", "htu", "iat", ...(accessToken !== null ? ["ath"] : []), ...(nonce !== null ? ["nonce"] : [])];
      const name3 = `required header parameters (typ, alg, jwk) and claims (${names.join(", ")}) present, with their types`;
      const missing = [...["typ", "alg", "jwk"].filter((n) => !has(hdr, n)).map((n) => `header ${n}`), ...names.filter((n) => !has(claims, n))];
      if (missing.length) t.check("RFC 9449 §4.3 (3)", name3, false, `missing ${missing.join(", ")}`);
      const wrong = ["typ", "alg"].filter((n) => !isStr(hdr[n]));
      if (!isObj(hdr.jwk)) wrong.push("header jwk (a JSON object)");
      for (const n of ["jti", "htm", "htu", "ath", "nonce"]) if (names.includes(n) && !(isStr(claims[n]) && claims[n])) wrong.push(n);
      if (!isNumericDate(claims.iat)) wrong.push("iat (a NumericDate)");
      if (isStr(claims.jti) && codePoints(claims.jti) > 256) wrong.push("jti longer than 256 characters");
      t.check("RFC 9449 §4.3 (3)", name3, !wrong.length, wrong.length ? `wrong type: ${wrong.join(", ")}` : "all present");
      checkTyp(t, hdr, ["dpop+jwt"], "RFC 9449 §4.3 (4)");
      const alg = hdr.alg;
      t.check("RFC 9449 §4.3 (5)", `alg is an asymmetric signature algorithm on the allowlist ${pyList([...algorithms].sort())}`, algorithms.includes(alg), `alg = ${ev(alg)}`);
      // (6) the signature, with the public members of the header's jwk
      const jwk = hdr.jwk;
      const section6 = "RFC 9449 §4.3 (6)";
      const name6 = "the signature verifies with the public key in the header's jwk";
      let fits;
      let why;
      try {
        [fits, why] = keyFitsAlg(jwk, alg);
      } catch (e) {
        if (!(e instanceof Fail)) throw e;
        [fits, why] = [false, `${e.check} (${e.evidence})`]; // a member that is not base64url, say
      }
      if (!fits) t.check(section6, name6, false, `jwk does not fit ${alg}: ${why}`);
      const members = PUBLIC_MEMBERS[get(jwk, "kty")] || [];
      const pub = Object.create(null);
      for (const m of members) if (has(jwk, m)) pub[m] = jwk[m];
      let imported = null;
      if (members.every((m) => isStr(pub[m]))) {
        try {
          imported = await global.jose.importJWK({ ...pub }, alg);
        } catch (e) {
          imported = null;
        }
      }
      if (imported === null) t.check(section6, name6, false, `jwk is not a valid ${get(jwk, "kty")} public key`);
      const size = signatureBytes(alg, pub);
      if (parsed.signature.length !== size) t.check(section6, name6, false, `${parsed.signature.length}-byte signature; ${alg} makes ${size}`);
      const ok = await signatureVerifies(alg, pub, parsed);
      t.check(section6, name6, ok, ok ? `${alg} (WebCrypto, through jose)` : `does not verify (${alg})`);
      const priv = PRIVATE_MEMBERS.filter((m) => has(jwk, m));
      t.check("RFC 9449 §4.3 (7)", "the jwk holds no private key", !priv.length, priv.length ? `private members ${pyList(priv)}` : `public ${get(jwk, "kty")} key`);
      t.check("RFC 9449 §4.3 (8)", `htm is the request's method ${opts.htm}`, claims.htm === opts.htm, `htm = ${ev(claims.htm)}`);
      const want = normalizeHtu(opts.htu);
      const got = normalizeHtu(claims.htu);
      t.check("RFC 9449 §4.3 (9)", `htu is the request's URI ${want} (query and fragment ignored; RFC 3986 §6.2.2, §6.2.3 normalization)`, want !== null && got === want, `htu = ${ev(claims.htu)}`);
      if (nonce !== null) {
        const same = claims.nonce === nonce;
        t.check("RFC 9449 §4.3 (10)", "nonce is the one the server provided", same, same ? "a nonce this server provided" : "not a nonce this server provided recently");
      }
      t.check("RFC 9449 §4.3 (11)", `iat within ${iatWindow}s of now (joselab policy; RFC 9449 §11.1 leaves the window to the server)`, Math.abs(now - claims.iat) <= iatWindow, `now - iat = ${Math.trunc(now - claims.iat)}s`);
      t.check("RFC 9449 §11.1", "jti not seen before at this URI", true, "first use: the workbench keeps no jti store (a first sight)");
      if (accessToken !== null) {
        const expected = await sha256b64url(accessToken);
        t.check("RFC 9449 §4.3 (12)", "ath is the base64url SHA-256 of the access token", claims.ath === expected, `ath = ${ev(claims.ath)}`);
        const jkt = await jwkThumbprint({ ...pub });
        const bound = isStr(cnfJkt) && jkt === cnfJkt;
        t.check("RFC 9449 §4.3 (12)", "the jwk's RFC 7638 thumbprint is the access token's cnf.jkt", bound, bound ? `thumbprint = cnf.jkt = ${jkt}` : `cnf.jkt = ${ev(cnfJkt)}; the proof's key is another`);
      }
      t.result = claims;
    });
  }

  /** Each profile: the Python validator it mirrors, what it reads from the form, its defaults. */
  const PROFILES = {
    jws: {
      label: "Plain JWS (RFC 7515)",
      mirrors: "joselab.jws.verify_jws",
      inputs: ["jwks", "algorithms"],
      algorithms: ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"],
      run: plainJws,
    },
    access_token: {
      label: "RFC 9068 access token",
      mirrors: "joselab.access_token.AccessTokenValidator",
      inputs: ["jwks", "algorithms", "issuer", "audience", "now"],
      algorithms: ["RS256", "PS256"],
      run: accessToken,
    },
    id_token: {
      label: "OIDC ID token",
      mirrors: "joselab.id_token.IdTokenValidator",
      inputs: ["jwks", "algorithms", "issuer", "client-id", "nonce", "now"],
      algorithms: ["RS256"],
      run: idToken,
    },
    software_statement: {
      label: "OB software statement",
      mirrors: "joselab.registration.SoftwareStatementValidator",
      inputs: ["jwks", "algorithms", "issuer", "now"],
      algorithms: ["ES256", "PS256"],
      run: softwareStatement,
    },
    dpop: {
      label: "DPoP proof (RFC 9449)",
      mirrors: "joselab.dpop.DPoPProofValidator",
      inputs: ["algorithms", "htm", "htu", "access-token", "jkt", "nonce", "now"],
      algorithms: ["ES256", "PS256", "Ed25519"],
      run: dpopProof,
    },
    client_assertion: {
      label: "Client assertion (private_key_jwt)",
      mirrors: "joselab.client_assertion.ClientAssertionValidator",
      inputs: ["jwks", "algorithms", "issuer", "client-id", "now"],
      algorithms: ["PS256", "PS384", "PS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"],
      run: clientAssertion,
    },
  };

  /** Validate ``token`` with ``profile``; options: jwks (text), algorithms (text), issuer,
   * audience, clientId, nonce, now (a NumericDate). Resolves to {verdict, title, rows, failing,
   * section} or {verdict: "reject", config: message} when the form itself is unusable. */
  async function validate(profile, token, options) {
    const spec = PROFILES[profile];
    if (!spec) return { verdict: "reject", config: `unknown profile ${profile}`, rows: [] };
    let trace;
    try {
      trace = await spec.run(token, options || {});
    } catch (e) {
      if (e instanceof ConfigError) return { verdict: "reject", config: e.message, rows: [] };
      throw e;
    }
    const failing = trace.rows.find((r) => r.outcome === "fail") || null;
    return {
      verdict: trace.ok ? "accept" : "reject",
      title: trace.title,
      mirrors: spec.mirrors,
      rows: trace.rows,
      failing,
      section: failing ? failing.section : null,
      result: trace.ok ? trace.result : null,
    };
  }

  /** Decode without verifying: the parts of a JWS or JWE, each header and payload UNVERIFIED. */
  function decode(token) {
    token = token.trim();
    const parts = token.split(".");
    const out = { kind: parts.length === 5 ? "JWE" : parts.length === 3 ? "JWS" : "?", parts, header: null, payload: null, errors: [] };
    try {
      out.header = header(parts[0], out.kind === "JWE" ? "RFC 7516" : "RFC 7515");
    } catch (e) {
      out.errors.push(e.check ? `${e.section}: ${e.check} (${e.evidence})` : String(e));
    }
    if (out.kind === "JWS") {
      try {
        const raw = get(out.header, "b64") === false ? utf8(parts[1]) : b64urlDecode(parts[1], "payload");
        try {
          out.payload = loadsStrict(raw, "payload", "RFC 7519 §7.2");
        } catch (e) {
          out.payload = new TextDecoder().decode(raw);
        }
      } catch (e) {
        out.errors.push(`${e.section}: ${e.check} (${e.evidence})`);
      }
      out.signingInput = `${parts[0]}.${parts[1]}`;
    }
    return out;
  }

  global.JoselabWorkbench = { validate, decode, PROFILES, parseJson, b64urlEncode };
})(window);
