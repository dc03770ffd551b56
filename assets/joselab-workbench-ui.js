/* The token workbench's page (workbench.md): reads the form, runs JoselabWorkbench.validate (the
 * profiles of joselab-workbench.js) and shows the decoded token and the trace, failing row first.
 * It sends nothing and stores nothing: no fetch, no storage API, no cookie. */
(function () {
  "use strict";

  // Example tokens, signed with published RFC example keys at the book's fixed clock (DEMO_EPOCH,
  // 2026-01-01T00:00:00Z): the cast's AS (rfc7515-a2-rsa, RS256) and directory (rfc7515-a3-p256, ES256).
  const EXAMPLES = {
    "jws": {
      "token": "eyJhbGciOiJSUzI1NiIsInR5cCI6ImF0K2p3dCIsImtpZCI6IklzVW42X2UwNE1hU2hYRklJU01wNGtHNjJMV3pNSVB5X012U0E1cEpnWDgifQ.eyJpc3MiOiJodHRwczovL2FzLmJhbmsuZXhhbXBsZSIsImV4cCI6MTc2NzIyNTkwMCwiYXVkIjoiaHR0cHM6Ly9hcGkuYmFuay5leGFtcGxlIiwic3ViIjoiMjQ4Mjg5NzYxMDAxIiwiY2xpZW50X2lkIjoic3ctYnVkZ2V0LWJ1ZGR5LTAxIiwiaWF0IjoxNzY3MjI1NjAwLCJqdGkiOiI4ZjBjNmE1Mi0zYTUzLTRhNGQtOWQwZS02YTVhOGY3ZDZjMDEiLCJzY29wZSI6ImFjY291bnRzIn0.cxG_7vbwErUto4XGdyM44eTsGC3PBQV35HH8XqCQU3S6U_tikOlCoBkHdnbGD-7Pwf9qjJc5MeqI7OqqUI48xXcdOsHOrIHywszTkNDdcBZ8YIvQj1N8tAFEJD_-dpNU0o_C1SV4cfaw0zdXQj90rTcTdcDy5DdFU_dbgL7zaLS4twPbulvDsLOMhlDHvaMEKLso-_iexSOfEF0tDQclGzkFZnqbJDHXnvCNLCsWL_IyZKAHksAPSWiAMncqy8w6K2FUoU12PS-IX4JcJcrm0bcdvUYsWekMbtI4gkjULCv_PG7_KUchS-0t5BNa-GliykbfoV6CvlA5k9dTICahHQ",
      "jwks": "{\"keys\": [{\"kty\": \"RSA\", \"kid\": \"IsUn6_e04MaShXFIISMp4kG62LWzMIPy_MvSA5pJgX8\", \"n\": \"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ\", \"e\": \"AQAB\", \"alg\": \"RS256\", \"use\": \"sig\"}]}",
      "algorithms": "",
      "issuer": "",
      "audience": "",
      "client-id": "",
      "nonce": "",
      "now": ""
    },
    "access_token": {
      "token": "eyJhbGciOiJSUzI1NiIsInR5cCI6ImF0K2p3dCIsImtpZCI6IklzVW42X2UwNE1hU2hYRklJU01wNGtHNjJMV3pNSVB5X012U0E1cEpnWDgifQ.eyJpc3MiOiJodHRwczovL2FzLmJhbmsuZXhhbXBsZSIsImV4cCI6MTc2NzIyNTkwMCwiYXVkIjoiaHR0cHM6Ly9hcGkuYmFuay5leGFtcGxlIiwic3ViIjoiMjQ4Mjg5NzYxMDAxIiwiY2xpZW50X2lkIjoic3ctYnVkZ2V0LWJ1ZGR5LTAxIiwiaWF0IjoxNzY3MjI1NjAwLCJqdGkiOiI4ZjBjNmE1Mi0zYTUzLTRhNGQtOWQwZS02YTVhOGY3ZDZjMDEiLCJzY29wZSI6ImFjY291bnRzIn0.cxG_7vbwErUto4XGdyM44eTsGC3PBQV35HH8XqCQU3S6U_tikOlCoBkHdnbGD-7Pwf9qjJc5MeqI7OqqUI48xXcdOsHOrIHywszTkNDdcBZ8YIvQj1N8tAFEJD_-dpNU0o_C1SV4cfaw0zdXQj90rTcTdcDy5DdFU_dbgL7zaLS4twPbulvDsLOMhlDHvaMEKLso-_iexSOfEF0tDQclGzkFZnqbJDHXnvCNLCsWL_IyZKAHksAPSWiAMncqy8w6K2FUoU12PS-IX4JcJcrm0bcdvUYsWekMbtI4gkjULCv_PG7_KUchS-0t5BNa-GliykbfoV6CvlA5k9dTICahHQ",
      "jwks": "{\"keys\": [{\"kty\": \"RSA\", \"kid\": \"IsUn6_e04MaShXFIISMp4kG62LWzMIPy_MvSA5pJgX8\", \"n\": \"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ\", \"e\": \"AQAB\", \"alg\": \"RS256\", \"use\": \"sig\"}]}",
      "issuer": "https://as.bank.example",
      "audience": "https://api.bank.example",
      "now": "1767225600"
    },
    "id_token": {
      "token": "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6IklzVW42X2UwNE1hU2hYRklJU01wNGtHNjJMV3pNSVB5X012U0E1cEpnWDgifQ.eyJpc3MiOiJodHRwczovL2FzLmJhbmsuZXhhbXBsZSIsInN1YiI6IjI0ODI4OTc2MTAwMSIsImF1ZCI6InN3LWJ1ZGdldC1idWRkeS0wMSIsImV4cCI6MTc2NzIyNTkwMCwiaWF0IjoxNzY3MjI1NjAwLCJhdXRoX3RpbWUiOjE3NjcyMjU2MDAsIm5vbmNlIjoibi0wUzZfV3pBMk1qIn0.K10Xny3yyPhJ9-eOHaT6NKrdHyYIpwCKY0AcyPXz-zTUgu4uNcUWWEqNrlnG5sFAEZoNRoHzw5EblzE-lOwJZFHG-E6W5r-NMSyKj6c59UyR9FFk8y3cN3BmLrcWz8yszhpiOD_HklgL61NJJNjYitAAhLuwtsk3Sp5Jls1Z0D5yJeMOy3dSZxPIPgpA3Zo-y63GUqmTPdxZkJJknHtfa9ioSX8jxZKfiwYelNod_TsH1EmlhoNou9WAG9GBQ0wD7NnfmP7gieE9oliNF15W6hWoV0APOl1sEYtq5D-Z-HsOcUD3iU2J10clWjG9KqDNTjNrsMAFlyfyby7-ssmpNw",
      "jwks": "{\"keys\": [{\"kty\": \"RSA\", \"kid\": \"IsUn6_e04MaShXFIISMp4kG62LWzMIPy_MvSA5pJgX8\", \"n\": \"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ\", \"e\": \"AQAB\", \"alg\": \"RS256\", \"use\": \"sig\"}]}",
      "issuer": "https://as.bank.example",
      "client-id": "sw-budget-buddy-01",
      "nonce": "n-0S6_WzA2Mj",
      "now": "1767225600"
    },
    "software_statement": {
      "token": "eyJhbGciOiJFUzI1NiIsImtpZCI6Im9LSXl3dkdVcFRWVHl4TVEzYndJSWVRVXVkZnJfQ2tMTWpDRTE5RUNELVUiLCJ0eXAiOiJKV1QifQ.eyJpc3MiOiJodHRwczovL2tleXN0b3JlLmRpcmVjdG9yeS5leGFtcGxlIiwiaWF0IjoxNzY3MjI1NjAwLCJqdGkiOiIzOGI0ZTY1Mi1lNDRkLTQ3ZjItYjcwZC05ZTI2MGUyNzEzNjUiLCJzb2Z0d2FyZV9pZCI6InN3LWJ1ZGdldC1idWRkeS0wMSIsInNvZnR3YXJlX2NsaWVudF9pZCI6InN3LWJ1ZGdldC1idWRkeS0wMSIsInNvZnR3YXJlX2NsaWVudF9uYW1lIjoiQnVkZ2V0IEJ1ZGR5Iiwic29mdHdhcmVfcmVkaXJlY3RfdXJpcyI6WyJodHRwczovL2FwcC5ob2JiaXRvbi5leGFtcGxlL2NhbGxiYWNrIiwiaHR0cHM6Ly9hcHAuaG9iYml0b24uZXhhbXBsZS9jYWxsYmFjazIiXSwic29mdHdhcmVfcm9sZXMiOlsiQUlTUCJdLCJzb2Z0d2FyZV9qd2tzX2VuZHBvaW50IjoiaHR0cHM6Ly9rZXlzdG9yZS5kaXJlY3RvcnkuZXhhbXBsZS9vcmctaG9iYml0b24tMDAwMS9zdy1idWRnZXQtYnVkZHktMDEuandrcyIsIm9yZ19pZCI6Im9yZy1ob2JiaXRvbi0wMDAxIiwib3JnX25hbWUiOiJIb2JiaXRvbiBGaW50ZWNoIEx0ZCIsIm9yZ19zdGF0dXMiOiJBY3RpdmUifQ.cRmJe-QZCkys4TZMx3ggabobIU2WO-K9LCf9vPqmzD-C5czsNxMbg0Hq5hD83mCmAXfpLeBE9kuSMpX-P2HccQ",
      "jwks": "{\"keys\": [{\"kty\": \"EC\", \"kid\": \"oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U\", \"crv\": \"P-256\", \"x\": \"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\", \"y\": \"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\", \"alg\": \"ES256\", \"use\": \"sig\"}]}",
      "issuer": "https://keystore.directory.example",
      "now": "1767225600"
    },
    // RFC 9449 Figure 13: a proof with the access token it is sent with (its own example key, ES256).
    "dpop": {
      "token": "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiJlMWozVl9iS2ljOC1MQUVCIiwiaHRtIjoiR0VUIiwiaHR1IjoiaHR0cHM6Ly9yZXNvdXJjZS5leGFtcGxlLm9yZy9wcm90ZWN0ZWRyZXNvdXJjZSIsImlhdCI6MTU2MjI2MjYxOCwiYXRoIjoiZlVIeU8ycjJaM0RaNTNFc05yV0JiMHhXWG9hTnk1OUlpS0NBcWtzbVFFbyJ9.2oW9RP35yRqzhrtNP86L-Ey71EOptxRimPPToA1plemAgR6pxHF8y6-yqyVnmcw6Fy1dqd-jfxSYoMxhAJpLjA",
      "jwks": "",
      "htm": "GET",
      "htu": "https://resource.example.org/protectedresource",
      "access-token": "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU",
      "jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I",
      "nonce": "",
      "now": "1562262618"
    },
    "client_assertion": {
      "token": "eyJhbGciOiJQUzI1NiIsInR5cCI6ImNsaWVudC1hdXRoZW50aWNhdGlvbitqd3QiLCJraWQiOiJiaWxiby5iYWdnaW5zQGhvYmJpdG9uLmV4YW1wbGUifQ.eyJpc3MiOiJzdy1idWRnZXQtYnVkZHktMDEiLCJzdWIiOiJzdy1idWRnZXQtYnVkZHktMDEiLCJhdWQiOiJodHRwczovL2FzLmJhbmsuZXhhbXBsZSIsImlhdCI6MTc2NzIyNTYwMCwiZXhwIjoxNzY3MjI1NjYwLCJqdGkiOiIzOGI0ZTY1Mi1lNDRkLTQ3ZjItYjcwZC05ZTI2MGUyNzEzNjUifQ.V3yUYL0sowqEN_BTXXncC7I7LswuoYQ9DOkg7aRNrbu25HANTDQaUPLkSztjMZhtkuMITgmbMNwi6n107wfRKPBvDA1gB-Ly2OCjsjpglVHmqHB15_t6SnP29053vCprc2xZRdH2d_FOAlLOP0n8JjOuhZCVwkWoy-QKuNwiM6_QSPH1SkH-KCsMRNoeYd6tsdY4iyRWn6XYHMOS7jlktGEEUZ0jRFn7HLeVi9McV_fshGYxa3SJVVBfCubdHZB9iVAB5JtXujk1G9Jsw87p1LN4wqXqReA3eEgP-SzZv3eQaNMJL22V-HfvGeGdCenc2Kq5a1NP_Z0ZHLND-8fbfg",
      "jwks": "{\"keys\": [{\"kty\": \"RSA\", \"kid\": \"bilbo.baggins@hobbiton.example\", \"n\": \"n4EPtAOCc9AlkeQHPzHStgAbgs7bTZLwUBZdR8_KuKPEHLd4rHVTeT-O-XV2jRojdNhxJWTDvNd7nqQ0VEiZQHz_AJmSCpMaJMRBSFKrKb2wqVwGU_NsYOYL-QtiWN2lbzcEe6XC0dApr5ydQLrHqkHHig3RBordaZ6Aj-oBHqFEHYpPe7Tpe-OfVfHd1E6cS6M1FZcD1NNLYD5lFHpPI9bTwJlsde3uhGqC0ZCuEHg8lhzwOHrtIQbS0FVbb9k3-tVTU4fg_3L_vniUFAKwuCLqKnS2BYwdq_mzSnbLY7h_qixoR7jig3__kRhuaxwUkRz5iaiQkqgc5gHdrNP5zw\", \"e\": \"AQAB\", \"alg\": \"PS256\", \"use\": \"sig\"}]}",
      "issuer": "https://as.bank.example",
      "client-id": "sw-budget-buddy-01",
      "now": "1767225600"
    }
  };

  const $ = (id) => document.getElementById(id);
  const FIELDS = ["algorithms", "issuer", "audience", "client-id", "nonce", "htm", "htu", "access-token", "jkt", "now"];

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v;
      else node.setAttribute(k, v);
    }
    for (const c of children) node.append(c);
    return node;
  }
  const pretty = (v) => (typeof v === "string" ? v : JSON.stringify(v, null, 2));

  // joselab.sections.link_html: every cited section that the book's table holds becomes a link to
  // its text (window.JoselabSections is made at build time from joselab/data/sections.json).
  const escapeHtml = (t) => t.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#x27;");
  function linkHtml(text) {
    const S = window.JoselabSections;
    if (!S) return escapeHtml(text);
    const citation = new RegExp(S.citation, "gd");
    const oneRef = new RegExp(S.ref, "gd");
    const doc = (name) => S.alias[name] || name;
    const normalise = (ref) => ref.replace("App. ", "Appendix ").replace(/^section /, "§").replace(/^§\s?/, "§");
    const lookup = (spec, section) => S.table[`${doc(spec)}\u0000${normalise(section)}`] || null;
    const anchor = (row, label) => (row ? `<a class="jl-cite" href="${escapeHtml(row[0])}" title="${escapeHtml(row[1])}">${label}</a>` : label);
    const out = [];
    let last = 0;
    for (const m of text.matchAll(citation)) {
      out.push(escapeHtml(text.slice(last, m.index)));
      const end = m.index + m[0].length;
      last = end;
      const g = m.groups;
      if (g.ob) {
        out.push(anchor(lookup(g.ob, g.heading || "") || lookup(g.ob, ""), escapeHtml(m[0])));
        continue;
      }
      const [refsStart] = m.indices.groups.refs;
      const refs = [...g.refs.matchAll(oneRef)];
      if (!refs.length) {
        out.push(anchor(lookup(g.doc, ""), escapeHtml(g.doc)));
        out.push(escapeHtml(text.slice(m.indices.groups.doc[1], end)));
        continue;
      }
      let cursor = m.index;
      refs.forEach((ref, i) => {
        const start = refsStart + ref.index;
        const stop = start + ref[0].length;
        if (i) out.push(escapeHtml(text.slice(cursor, start)));
        const label = i === 0 ? text.slice(m.index, stop) : ref[0];
        out.push(anchor(lookup(doc(g.doc), ref[0]), escapeHtml(label)));
        cursor = stop;
      });
      out.push(escapeHtml(text.slice(cursor, end)));
    }
    out.push(escapeHtml(text.slice(last)));
    return out.join("");
  }

  function showProfile() {
    const spec = JoselabWorkbench.PROFILES[$("profile").value];
    for (const field of document.querySelectorAll(".jl-wb-field[data-input]")) {
      field.hidden = !spec.inputs.includes(field.dataset.input);
    }
    $("algorithms").placeholder = spec.algorithms.join(", ");
  }

  function showDecoded(token) {
    const parts = $("wb-parts");
    parts.replaceChildren();
    $("wb-header").textContent = "";
    $("wb-payload").textContent = "";
    $("wb-signing-input").textContent = "";
    if (!token) return;
    const d = JoselabWorkbench.decode(token);
    const names = d.kind === "JWE"
      ? [["protected header", "header"], ["encrypted key", "key"], ["initialization vector", "iv"], ["ciphertext", "body"], ["authentication tag", "tag"]]
      : [["protected header", "header"], ["payload", "body"], ["signature", "tag"]];
    const line = el("div", { class: "jl-wb-token" });
    d.parts.forEach((text, i) => {
      if (i) line.append(el("span", { class: "jl-c-muted" }, "."));
      const [name, kind] = names[i] || ["extra part", "muted"];
      line.append(el("span", { class: `jl-wb-part jl-c-${kind}`, title: name, "data-part": name }, text));
    });
    const legend = el("div", { class: "jl-wb-legend" });
    for (const [name, kind] of names) legend.append(el("span", { class: `jl-c-${kind}` }, `■ ${name}`), " ");
    legend.append(el("span", { class: "jl-c-muted" }, `${d.kind}, ${d.parts.length} parts`));
    parts.append(line, legend);
    $("wb-header").textContent = d.header ? pretty(d.header) : d.errors.join("\n");
    if (d.kind === "JWE") $("wb-payload").textContent = "(encrypted: the workbench decrypts nothing)";
    else if (d.payload !== null) $("wb-payload").textContent = pretty(d.payload);
    else $("wb-payload").textContent = d.errors.join("\n");
    if (d.signingInput !== undefined) {
      const [h, p] = [d.parts[0], d.parts[1]];
      $("wb-signing-input").replaceChildren(el("span", { class: "jl-c-header" }, h), el("span", { class: "jl-c-muted" }, "."), el("span", { class: "jl-c-body" }, p));
    } else $("wb-signing-input").textContent = "(a JWE has no signing input)";
  }

  function sectionCell(section) {
    const td = el("td", { class: "jl-wb-section" });
    td.innerHTML = linkHtml(section); // escaped above: only the table's links are markup
    return td;
  }

  function showTrace(outcome) {
    const body = $("wb-rows").tBodies[0];
    body.replaceChildren();
    $("wb-title").textContent = outcome.title ? `${outcome.title} (mirrors ${outcome.mirrors})` : "";
    const verdict = $("verdict");
    verdict.textContent = outcome.verdict;
    verdict.dataset.verdict = outcome.verdict;
    const message = $("wb-message");
    message.textContent = "";
    if (outcome.config) {
      message.textContent = `Cannot check: ${outcome.config}`;
      return;
    }
    const n = outcome.rows.length;
    message.textContent = outcome.verdict === "accept"
      ? `ACCEPTED: all ${n} checks passed.`
      : `REJECTED at check ${n} of ${n}: ${outcome.failing.section} ${outcome.failing.name}.`;
    // The failing row first (it is always the last row run), then the passed rows in order.
    const order = outcome.rows.map((r, i) => [r, i + 1]);
    if (outcome.failing) order.unshift(order.pop());
    for (const [row, number] of order) {
      const tr = el("tr", { "data-section": row.section, "data-outcome": row.outcome, class: `jl-wb-${row.outcome}` });
      tr.append(
        el("td", { class: "jl-wb-num" }, String(number)),
        el("td", { class: "jl-wb-mark", "aria-label": row.outcome }, row.outcome === "pass" ? "✓" : "✗"),
        sectionCell(row.section),
        el("td", {}, row.name),
        el("td", { class: "jl-wb-evidence" }, row.evidence),
      );
      body.append(tr);
    }
  }

  function options() {
    const now = $("now").value.trim();
    return {
      jwks: $("jwks").value,
      algorithms: $("algorithms").value,
      issuer: $("issuer").value.trim(),
      audience: $("audience").value.trim(),
      clientId: $("client-id").value.trim(),
      nonce: $("nonce").value,
      htm: $("htm").value.trim(),
      htu: $("htu").value.trim(),
      accessToken: $("access-token").value.trim(),
      jkt: $("jkt").value.trim(),
      now: now === "" ? Math.floor(Date.now() / 1000) : /^-?[0-9]+$/.test(now) ? Number(now) : NaN,
    };
  }

  async function check() {
    const token = $("token").value.trim();
    const button = $("run");
    button.disabled = true;
    try {
      showDecoded(token);
      showTrace(await JoselabWorkbench.validate($("profile").value, token, options()));
    } catch (e) {
      showTrace({ verdict: "reject", config: `the workbench failed: ${e}`, rows: [] });
    } finally {
      button.disabled = false;
    }
  }

  function loadExample() {
    const example = EXAMPLES[$("profile").value];
    $("token").value = example.token;
    $("jwks").value = example.jwks;
    for (const f of FIELDS) $(f).value = example[f] || "";
  }

  function start() {
    if (!$("jl-workbench")) return;
    $("profile").addEventListener("change", showProfile);
    $("run").addEventListener("click", check);
    $("example").addEventListener("click", loadExample);
    $("token").addEventListener("input", () => showDecoded($("token").value.trim()));
    showProfile();
    window.JoselabWorkbench.linkHtml = linkHtml;
    document.documentElement.dataset.workbench = "ready";
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
