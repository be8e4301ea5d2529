//! Starting and stopping one browser for one crawl.

use chromiumoxide::browser::{BrowserConfig, HeadlessMode};
use futures::StreamExt;

use crate::{Browser, CrawlError};

/// Flags for a monitor, not a person: nothing phones home, nothing is
/// remembered between crawls, and `navigator.webdriver` is not set (some
/// skimmers stay quiet when they see an automated browser).
const ARGS: &[&str] = &[
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-sync",
    "--disable-gpu",
    "--no-first-run",
    "--no-default-browser-check",
    "--metrics-recording-only",
    "--password-store=basic",
    "--use-mock-keychain",
    "--disable-blink-features=AutomationControlled",
];

pub(crate) struct Session {
    pub(crate) browser: chromiumoxide::Browser,
    handler: tokio::task::JoinHandle<()>,
    // Removed with the session: nothing of one crawl reaches the next.
    _profile: tempfile::TempDir,
}

/// Chromium refuses to run as root with its sandbox on (containers, CI).
fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

impl Session {
    pub(crate) async fn start(b: &Browser) -> Result<Session, CrawlError> {
        let launch_error = |reason: String| CrawlError::Launch {
            path: b.executable.display().to_string(),
            reason,
        };
        if !b.executable.is_file() {
            return Err(launch_error("no such file".into()));
        }
        let profile = tempfile::Builder::new()
            .prefix("bulwark-crawl-")
            .tempdir()
            .map_err(CrawlError::Profile)?;
        let mut config = BrowserConfig::builder()
            .chrome_executable(&b.executable)
            .headless_mode(HeadlessMode::New)
            .user_data_dir(profile.path())
            .respect_https_errors()
            .disable_cache()
            .launch_timeout(b.timeout)
            .request_timeout(b.timeout)
            .window_size(1280, 900)
            .args(ARGS.iter().copied());
        if b.loopback_only {
            // Loopback (localhost, *.localhost, 127/8, ::1) bypasses a proxy
            // implicitly; port 9 (discard) on loopback refuses everything else.
            config = config.arg("--proxy-server=http://127.0.0.1:9");
        }
        if running_as_root() {
            config = config.no_sandbox();
        }
        let config = config.build().map_err(launch_error)?;
        let (browser, mut handler) = chromiumoxide::Browser::launch(config)
            .await
            .map_err(|e| launch_error(e.to_string()))?;
        let handler = tokio::spawn(async move {
            // An error here is one message the client could not read (a
            // newer browser's event); the connection carries on, so does this.
            while let Some(event) = handler.next().await {
                if let Err(e) = event {
                    tracing::debug!(error = %e, "devtools message not understood");
                }
            }
        });
        Ok(Session {
            browser,
            handler,
            _profile: profile,
        })
    }

    /// Closes the browser and waits for it to exit (no stray processes).
    pub(crate) async fn close(&mut self) {
        if self.browser.close().await.is_err() {
            let _ = self.browser.kill().await;
        }
        let _ = self.browser.wait().await;
        self.handler.abort();
    }
}
