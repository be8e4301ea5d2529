//! One page load, watched over the DevTools protocol: the debugger's parsed
//! scripts (every script the page's own worlds compiled, however it got
//! there), the network log (requests, the document response, WebSockets) and,
//! once the page is quiet, the DOM.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bulwark_pagewatch::inventory::{
    Connection, ConnectionKind, Digests, ScriptSource, SecurityHeaders,
};
use chromiumoxide::cdp::browser_protocol::dom::{
    GetAttributesParams, GetDocumentParams, GetOuterHtmlParams, NodeId, QuerySelectorAllParams,
};
use chromiumoxide::cdp::browser_protocol::emulation::SetUserAgentOverrideParams;
use chromiumoxide::cdp::browser_protocol::network::{
    self, CookieParam, EventRequestWillBeSent, EventResponseReceived, EventWebSocketCreated,
    GetResponseBodyParams, InitiatorType, ResourceType, SetCookiesParams,
};
use chromiumoxide::cdp::browser_protocol::page::{EventFrameNavigated, NavigateParams};
use chromiumoxide::cdp::js_protocol::debugger::{self, EventScriptParsed, GetScriptSourceParams};
use chromiumoxide::cdp::js_protocol::runtime::StackTrace;
use chromiumoxide::Page;
use futures::StreamExt;
use zeroize::Zeroizing;

use crate::{
    Browser, Crawl, CrawlError, CrawledScript, MAX_BODY_BYTES, MAX_HOSTS, MAX_IFRAMES, MAX_SCRIPTS,
    MAX_SNAPSHOT_BYTES,
};

/// Script request URLs remembered (to tell external scripts from inline ones).
const MAX_SCRIPT_REQUESTS: usize = 5000;

/// A script the debugger reported, before its body is fetched.
struct Parsed {
    id: chromiumoxide::cdp::js_protocol::runtime::ScriptId,
    url: String,
    /// Where the code that compiled it was, for `eval` and inserted inline scripts.
    caller: Option<String>,
    has_source_url: bool,
}

/// What the event streams showed, kept compact and bounded as it arrives.
#[derive(Default)]
struct Seen {
    parsed: Vec<Parsed>,
    parsed_ids: BTreeSet<String>,
    /// Script URL → what requested it.
    script_requests: HashMap<String, Option<String>>,
    hosts: BTreeMap<String, Connection>,
    /// Document responses: (frame, request, status, headers).
    documents: Vec<(String, network::RequestId, u16, serde_json::Value)>,
    truncated: bool,
}

fn top_url(stack: Option<&StackTrace>) -> Option<String> {
    let mut s = stack;
    while let Some(st) = s {
        if let Some(f) = st.call_frames.iter().find(|f| !f.url.is_empty()) {
            return Some(f.url.clone());
        }
        s = st.parent.as_deref();
    }
    None
}

fn requester(i: &network::Initiator) -> Option<String> {
    match i.r#type {
        InitiatorType::Parser => Some("parser".into()),
        _ => top_url(i.stack.as_ref()).or_else(|| i.url.clone()),
    }
}

fn host_of(u: &str) -> Option<String> {
    let u = url::Url::parse(u).ok()?;
    if !matches!(u.scheme(), "http" | "https" | "ws" | "wss") {
        return None;
    }
    u.host_str().map(str::to_ascii_lowercase)
}

fn kind_of(t: Option<&ResourceType>) -> ConnectionKind {
    match t {
        Some(ResourceType::Fetch) => ConnectionKind::Fetch,
        Some(ResourceType::Xhr) | Some(ResourceType::EventSource) => ConnectionKind::Xhr,
        Some(ResourceType::WebSocket) => ConnectionKind::Websocket,
        Some(ResourceType::Ping) => ConnectionKind::Beacon,
        Some(ResourceType::Image) => ConnectionKind::Image,
        Some(ResourceType::Script) => ConnectionKind::Script,
        Some(ResourceType::Document) => ConnectionKind::Frame,
        _ => ConnectionKind::Other,
    }
}

impl Seen {
    fn script(&mut self, e: &EventScriptParsed) {
        // Only the page's own worlds: not the protocol client's isolated
        // world, not an extension's.
        let default_world = e
            .execution_context_aux_data
            .as_ref()
            .and_then(|d| d.get("isDefault"))
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        if !default_world || !self.parsed_ids.insert(e.script_id.inner().clone()) {
            return;
        }
        if self.parsed.len() >= MAX_SCRIPTS {
            self.truncated = true;
            return;
        }
        self.parsed.push(Parsed {
            id: e.script_id.clone(),
            url: e.url.clone(),
            caller: top_url(e.stack_trace.as_ref()),
            has_source_url: e.has_source_url.unwrap_or(false),
        });
    }

    fn connection(&mut self, url: &str, kind: ConnectionKind, initiator: Option<String>) {
        let Some(host) = host_of(url) else { return };
        let initiator = initiator.filter(|i| i != "parser");
        let full = self.hosts.len() >= MAX_HOSTS;
        match self.hosts.get_mut(&host) {
            // The first script seen reaching a host is the one named.
            Some(c) if c.initiator.is_none() && initiator.is_some() => c.initiator = initiator,
            Some(_) => {}
            None if full => self.truncated = true,
            None => {
                self.hosts.insert(
                    host.clone(),
                    Connection {
                        host,
                        kind,
                        initiator,
                    },
                );
            }
        }
    }

    fn request(&mut self, e: &EventRequestWillBeSent) {
        let by = requester(&e.initiator);
        if e.r#type == Some(ResourceType::Script) {
            if self.script_requests.len() < MAX_SCRIPT_REQUESTS {
                self.script_requests
                    .insert(e.request.url.clone(), by.clone());
            } else {
                self.truncated = true;
            }
        }
        self.connection(&e.request.url, kind_of(e.r#type.as_ref()), by);
    }

    fn response(&mut self, e: &EventResponseReceived) {
        if e.r#type == ResourceType::Document {
            if let Some(f) = &e.frame_id {
                self.documents.push((
                    f.inner().clone(),
                    e.request_id.clone(),
                    u16::try_from(e.response.status).unwrap_or(0),
                    e.response.headers.inner().clone(),
                ));
            }
        }
    }

    fn socket(&mut self, e: &EventWebSocketCreated) {
        let by = e
            .initiator
            .as_ref()
            .and_then(|i| top_url(i.stack.as_ref()).or_else(|| i.url.clone()));
        self.connection(&e.url, ConnectionKind::Websocket, by);
    }
}

/// The security headers of a response's header object (names in any case;
/// repeated headers arrive joined by newlines).
fn security_headers(h: &serde_json::Value) -> SecurityHeaders {
    let get = |name: &str| -> Option<String> {
        h.as_object()?.iter().find_map(|(k, v)| {
            k.eq_ignore_ascii_case(name)
                .then(|| v.as_str().map(|s| s.replace('\n', ", ")))
                .flatten()
        })
    };
    SecurityHeaders {
        csp: get("content-security-policy"),
        csp_report_only: get("content-security-policy-report-only"),
        hsts: get("strict-transport-security"),
        x_frame_options: get("x-frame-options"),
        referrer_policy: get("referrer-policy"),
        permissions_policy: get("permissions-policy"),
    }
}

fn cut(mut s: String, max: usize) -> (Vec<u8>, bool) {
    if s.len() <= max {
        return (s.into_bytes(), false);
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    (s.into_bytes(), true)
}

pub(crate) async fn run(
    browser: &chromiumoxide::Browser,
    cfg: &Browser,
    url: &url::Url,
    cookies: &[(String, Zeroizing<String>)],
) -> Result<Crawl, CrawlError> {
    let page = browser.new_page("about:blank").await?;
    let scripts = page.event_listener::<EventScriptParsed>().await?;
    let requests = page.event_listener::<EventRequestWillBeSent>().await?;
    let responses = page.event_listener::<EventResponseReceived>().await?;
    let sockets = page.event_listener::<EventWebSocketCreated>().await?;
    let frames = page.event_listener::<EventFrameNavigated>().await?;
    page.execute(debugger::EnableParams::default()).await?;
    // Stacks on requests: which script sent a beacon or inserted a script.
    page.execute(debugger::SetAsyncCallStackDepthParams::new(16))
        .await?;
    page.execute(network::EnableParams::default()).await?;
    // A visitor's user agent: "HeadlessChrome" is what evasive skimmers look for.
    let ua = browser
        .user_agent()
        .await?
        .replace("HeadlessChrome", "Chrome");
    page.execute(SetUserAgentOverrideParams::new(ua)).await?;
    if !cookies.is_empty() {
        let params: Vec<CookieParam> = cookies
            .iter()
            .map(|(name, value)| {
                let mut c = CookieParam::new(name.clone(), value.to_string());
                c.url = Some(url.to_string());
                c
            })
            .collect();
        page.execute(SetCookiesParams::new(params)).await?;
    }

    page.goto(NavigateParams::new(url.to_string()))
        .await
        .map_err(|e| CrawlError::Load(e.to_string()))?;
    let main_frame = page
        .mainframe()
        .await?
        .map(|f| f.inner().clone())
        .ok_or(CrawlError::NoDocument)?;

    // The page is loaded; now wait until it is quiet (or the settle time is up).
    let mut seen = Seen::default();
    let mut streams = Streams {
        scripts,
        requests,
        responses,
        sockets,
        frames,
    };
    streams.settle(&mut seen, cfg).await;
    if cfg.interact {
        let root = page
            .execute(GetDocumentParams::builder().depth(0).build())
            .await?
            .result
            .root
            .node_id;
        if crate::interact::type_into_payment_fields(&page, root).await > 0 {
            streams.settle(&mut seen, cfg).await;
        }
    }

    let (_, doc_request, status, headers) = seen
        .documents
        .iter()
        .find(|(f, ..)| *f == main_frame)
        .cloned()
        .ok_or(CrawlError::NoDocument)?;
    if status >= 400 {
        return Err(CrawlError::Status(status));
    }
    let final_url = page.url().await?.unwrap_or_else(|| url.to_string());
    let document = document_body(&page, doc_request).await;

    let root = page
        .execute(GetDocumentParams::builder().depth(0).build())
        .await?
        .result
        .root
        .node_id;
    let base = url::Url::parse(&final_url).unwrap_or_else(|_| url.clone());
    let with_sri: BTreeSet<String> = attribute_of(&page, root, "script[integrity]", "src", &base)
        .await?
        .into_iter()
        .collect();
    let mut iframes = attribute_of(&page, root, "iframe, frame", "src", &base).await?;
    iframes.truncate(MAX_IFRAMES);
    let html = page
        .execute(GetOuterHtmlParams::builder().node_id(root).build())
        .await?
        .result
        .outer_html;
    let (snapshot, snapshot_cut) = cut(html, MAX_SNAPSHOT_BYTES);

    let mut out = Vec::with_capacity(seen.parsed.len());
    let mut truncated = seen.truncated || snapshot_cut;
    for p in &seen.parsed {
        // A script gone before its source was read (a closed frame) is skipped.
        let Ok(src) = page.execute(GetScriptSourceParams::new(p.id.clone())).await else {
            continue;
        };
        let source_text = src.result.script_source.clone();
        let digests = Digests::of(source_text.as_bytes());
        let size = source_text.len() as u64;
        let (body, body_cut) = cut(source_text, MAX_BODY_BYTES);
        truncated |= body_cut;
        let (source, initiator) = classify(p, &seen.script_requests);
        let has_sri = matches!(&source, ScriptSource::Url(u) if with_sri.contains(u));
        out.push(CrawledScript {
            source,
            digests,
            size,
            initiator,
            has_sri,
            body,
        });
    }
    let _ = page.close().await;

    Ok(Crawl {
        final_url,
        status,
        headers: security_headers(&headers),
        scripts: out,
        iframes,
        connections: seen.hosts.into_values().collect(),
        document,
        snapshot,
        truncated,
        elapsed: Duration::ZERO,
    })
}

/// The page's event streams, read until the page is quiet.
struct Streams {
    scripts: chromiumoxide::listeners::EventStream<EventScriptParsed>,
    requests: chromiumoxide::listeners::EventStream<EventRequestWillBeSent>,
    responses: chromiumoxide::listeners::EventStream<EventResponseReceived>,
    sockets: chromiumoxide::listeners::EventStream<EventWebSocketCreated>,
    frames: chromiumoxide::listeners::EventStream<EventFrameNavigated>,
}

impl Streams {
    /// Records events until nothing new arrived for `quiet`, or `settle` is up.
    async fn settle(&mut self, seen: &mut Seen, cfg: &Browser) {
        let deadline = Instant::now() + cfg.settle;
        let mut last = Instant::now();
        loop {
            let now = Instant::now();
            if now >= deadline || now.duration_since(last) >= cfg.quiet {
                break;
            }
            let wait = (last + cfg.quiet).min(deadline) - now;
            tokio::select! {
                Some(e) = self.scripts.next() => { seen.script(&e); last = Instant::now(); }
                Some(e) = self.requests.next() => { seen.request(&e); last = Instant::now(); }
                Some(e) = self.responses.next() => { seen.response(&e); last = Instant::now(); }
                Some(e) = self.sockets.next() => { seen.socket(&e); last = Instant::now(); }
                Some(_) = self.frames.next() => { last = Instant::now(); }
                _ = tokio::time::sleep(wait) => {}
            }
        }
        // Whatever arrived in the last instant.
        drain(&mut self.scripts, |e| seen.script(&e));
        drain(&mut self.requests, |e| seen.request(&e));
        drain(&mut self.responses, |e| seen.response(&e));
        drain(&mut self.sockets, |e| seen.socket(&e));
    }
}

/// What a parsed script is, and what put it there.
fn classify(
    p: &Parsed,
    requested: &HashMap<String, Option<String>>,
) -> (ScriptSource, Option<String>) {
    if p.url.is_empty() {
        // Compiled from a string: eval, new Function, a string timer.
        return (ScriptSource::Eval, p.caller.clone());
    }
    if p.url.starts_with("data:") {
        return (ScriptSource::Data, p.caller.clone());
    }
    if p.url.starts_with("blob:") {
        return (ScriptSource::Blob, p.caller.clone());
    }
    if !p.has_source_url {
        if let Some(by) = requested.get(&p.url) {
            return (ScriptSource::Url(p.url.clone()), by.clone());
        }
    }
    // An inline <script>: by the parser unless a script inserted it.
    (
        ScriptSource::Inline,
        Some(p.caller.clone().unwrap_or_else(|| "parser".into())),
    )
}

fn drain<T>(s: &mut chromiumoxide::listeners::EventStream<T>, mut f: impl FnMut(Arc<T>))
where
    T: chromiumoxide::cdp::IntoEventKind + Unpin + std::fmt::Debug,
{
    while let Some(Some(e)) = s.next().now_or_never() {
        f(e);
    }
}

use futures::FutureExt;

async fn document_body(page: &Page, request: network::RequestId) -> Option<Vec<u8>> {
    let r = page
        .execute(GetResponseBodyParams::new(request))
        .await
        .ok()?
        .result;
    if r.base64_encoded {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(r.body.as_bytes())
            .ok()
    } else {
        Some(r.body.into_bytes())
    }
    .map(|mut b| {
        b.truncate(MAX_SNAPSHOT_BYTES);
        b
    })
}

/// `attr` of every element matching `selector`, as absolute URLs (`srcdoc`
/// frames as `about:srcdoc`).
pub(crate) async fn attribute_of(
    page: &Page,
    root: NodeId,
    selector: &str,
    attr: &str,
    base: &url::Url,
) -> Result<Vec<String>, CrawlError> {
    let nodes = page
        .execute(QuerySelectorAllParams::new(root, selector))
        .await?
        .result
        .node_ids;
    let mut out = Vec::new();
    for n in nodes.into_iter().take(MAX_IFRAMES.max(MAX_SCRIPTS)) {
        let Ok(a) = page.execute(GetAttributesParams::new(n)).await else {
            continue;
        };
        let attrs = &a.result.attributes;
        let value = attrs
            .chunks(2)
            .find(|kv| kv.first().is_some_and(|k| k.eq_ignore_ascii_case(attr)))
            .and_then(|kv| kv.get(1));
        match value {
            Some(v) => {
                if let Ok(u) = base.join(v.trim()) {
                    out.push(u.to_string());
                }
            }
            None if attrs
                .chunks(2)
                .any(|kv| kv.first().is_some_and(|k| k == "srcdoc")) =>
            {
                out.push("about:srcdoc".into())
            }
            None => {}
        }
    }
    Ok(out)
}
