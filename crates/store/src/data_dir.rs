//! The one owner of a data directory's files. Everything a user edits there —
//! `team.json`, `assets.json`, `playbooks/`, `rules/`, `laws/`,
//! `templates/notices/` — is read here, with the embedded defaults and the
//! directory's overrides applied, and comes back as the engines' own types.
//! The CLI and the server call only this, so they cannot disagree on what a
//! file means, and a broken file is an error naming the file and the line,
//! never an empty default.
//!
//! Layout:
//!
//! ```text
//! <root>/bulwark.db, keys.db      SQLite (customer data, access log, ledger | keyring, customer keys)
//! <root>/store.lock, outbox.lock  advisory locks (open store | the one notice sender)
//! <root>/evidence/<sha256>        the evidence locker; evidence/.incoming/ stages uploads
//! <root>/team.json                the response team (optional)
//! <root>/assets.json              the critical-asset inventory (optional)
//! <root>/playbooks/*.yaml         playbooks replacing (by id) or adding to the built-in ones
//! <root>/rules/**/*.yml           Sigma rules added to the built-in pack
//! <root>/laws/*.toml              law files replacing (by id) or adding to the catalogue
//! <root>/templates/notices/…      notice templates replacing the built-in files by path
//! ```

use std::path::{Path, PathBuf};

use bulwark_detect::{CompileOptions, LintReport, RuleSet};
use bulwark_incident::{Asset, PlaybookError, PlaybookSet, Team};
use bulwark_law::{Catalogue, CatalogueError};
use bulwark_notice::TemplateSet;
use serde::de::DeserializeOwned;

/// A data-directory file that could not be read, written or understood.
/// Messages name the file (and the line where there is one), never a value.
#[derive(Debug, thiserror::Error)]
pub enum DataFileError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: {message}", path.display())]
    Json {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{} is not valid UTF-8", path.display())]
    NotUtf8 { path: PathBuf },
    #[error("playbooks in {}: {source}", dir.display())]
    Playbooks { dir: PathBuf, source: PlaybookError },
    #[error("the built-in playbooks do not load: {0}")]
    BuiltinPlaybooks(PlaybookError),
    #[error("laws in {}: {source}", dir.display())]
    Laws {
        dir: PathBuf,
        source: CatalogueError,
    },
    #[error("the built-in law catalogue does not load: {0}")]
    BuiltinLaws(CatalogueError),
    #[error("no rule files (*.yml, *.yaml) in {}", dir.display())]
    NoRules { dir: PathBuf },
    #[error("log-format mapping refused: {0}")]
    Formats(bulwark_detect::MappingError),
    #[error("compliance duties in {}: {source}", dir.display())]
    Compliance {
        dir: PathBuf,
        source: bulwark_learn::CalendarError,
    },
    #[error("the built-in compliance duties do not load: {0}")]
    BuiltinCompliance(bulwark_learn::CalendarError),
    /// The scenario error names the file and line itself (not a `source`,
    /// so it is not printed twice).
    #[error("drill scenario refused: {problem}")]
    Scenarios {
        dir: PathBuf,
        problem: bulwark_learn::drill::ScenarioSetError,
    },
    #[error("the built-in drill scenarios do not load: {0}")]
    BuiltinScenarios(bulwark_learn::drill::ScenarioSetError),
    #[error("training modules in {}: {source}", dir.display())]
    Training {
        dir: PathBuf,
        source: bulwark_learn::TrainingError,
    },
    #[error("the built-in training modules do not load: {0}")]
    BuiltinTraining(bulwark_learn::TrainingError),
    #[error("skimmer indicators in {}: {source}", path.display())]
    Indicators {
        path: PathBuf,
        source: bulwark_pagewatch::indicators::IndicatorError,
    },
}

/// An asset asked for by name that the inventory does not hold.
#[derive(Debug, thiserror::Error)]
pub enum AssetLookupError {
    /// Asset names are system names from the operator's inventory, not personal data.
    #[error("{}", unknown_asset(.name, .known))]
    Unknown { name: String, known: Vec<String> },
    #[error(transparent)]
    File(#[from] DataFileError),
}

fn unknown_asset(name: &str, known: &[String]) -> String {
    if known.is_empty() {
        format!("no asset named `{name}`: the asset inventory is empty (add systems with `bulwark assets add`)")
    } else {
        format!(
            "no asset named `{name}` in the inventory; known: {}",
            known.join(", ")
        )
    }
}

/// Which shipped rule packs run besides the data directory's own rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RulePacks {
    /// The e-commerce pack (`rules/ecommerce`), on by default.
    pub ecommerce: bool,
    /// SigmaHQ's web rules (`rules/sigmahq-web`), off by default.
    pub sigmahq_web: bool,
}

impl Default for RulePacks {
    fn default() -> RulePacks {
        RulePacks {
            ecommerce: true,
            sigmahq_web: false,
        }
    }
}

/// Rule files as `(path, text)`, sorted by path within each origin: the
/// built-in packs first, then the directory's files.
#[derive(Debug, Clone, Default)]
pub struct RuleFiles {
    pub files: Vec<(String, String)>,
    /// How many of `files` came from the data directory.
    pub local: usize,
}

impl RuleFiles {
    /// Parses every file; the reports say what loaded and what was rejected, and why.
    pub fn load(&self) -> (RuleSet, Vec<LintReport>) {
        RuleSet::load(&self.files, CompileOptions::ecs())
    }
}

/// The files of a data directory.
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    pub fn new(root: impl Into<PathBuf>) -> DataDir {
        DataDir { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn main_db(&self) -> PathBuf {
        self.root.join("bulwark.db")
    }

    pub fn keys_db(&self) -> PathBuf {
        self.root.join("keys.db")
    }

    pub fn is_initialised(&self) -> bool {
        self.main_db().is_file() && self.keys_db().is_file()
    }

    pub(crate) fn store_lock(&self) -> PathBuf {
        self.root.join("store.lock")
    }

    /// Held by the one process that delivers notices (see [`DataDir::lock_outbox`]).
    pub fn outbox_lock(&self) -> PathBuf {
        self.root.join("outbox.lock")
    }

    /// The evidence locker: files named by their SHA-256.
    pub fn evidence_dir(&self) -> PathBuf {
        self.root.join("evidence")
    }

    /// A fresh staging directory for one upload, inside the locker so the final
    /// move is a rename on the same file system.
    pub fn evidence_staging(&self) -> Result<PathBuf, DataFileError> {
        let dir = self
            .evidence_dir()
            .join(".incoming")
            .join(uuid::Uuid::new_v4().to_string());
        std::fs::create_dir_all(&dir).map_err(|source| DataFileError::Write {
            path: dir.clone(),
            source,
        })?;
        Ok(dir)
    }

    /// Takes the notice sender's lock without waiting; `None` when another
    /// process holds it. The lock lasts as long as the returned file is open.
    pub fn lock_outbox(&self) -> Result<Option<std::fs::File>, DataFileError> {
        let path = self.outbox_lock();
        try_lock_file(path)
    }

    /// Takes the lock of one followed log file without waiting (`bulwark tail`
    /// and `serve --watch` share its checkpoint, so only one process may follow
    /// it); `None` when another process holds it. Lock files live in `tail/`,
    /// named by the SHA-256 of the path; the lock lasts as long as the file is open.
    pub fn lock_tail(&self, followed: &str) -> Result<Option<std::fs::File>, DataFileError> {
        use sha2::Digest;
        let dir = self.root.join("tail");
        std::fs::create_dir_all(&dir).map_err(|source| DataFileError::Write {
            path: dir.clone(),
            source,
        })?;
        let digest = sha2::Sha256::digest(followed.as_bytes());
        let path = dir.join(format!("{}.lock", hex::encode(&digest[..16])));
        try_lock_file(path)
    }

    /// `team.json`; `None` when the directory has none.
    pub fn team(&self) -> Result<Option<Team>, DataFileError> {
        read_json(&self.root.join("team.json"))
    }

    /// `assets.json`; empty when the directory has none.
    pub fn assets(&self) -> Result<Vec<Asset>, DataFileError> {
        Ok(read_json(&self.assets_path())?.unwrap_or_default())
    }

    /// One asset by name; an unknown name is refused with the known ones.
    pub fn asset(&self, name: &str) -> Result<Asset, AssetLookupError> {
        let all = self.assets()?;
        let known: Vec<String> = all.iter().map(|a| a.name.clone()).collect();
        all.into_iter()
            .find(|a| a.name == name)
            .ok_or_else(|| AssetLookupError::Unknown {
                name: name.to_owned(),
                known,
            })
    }

    /// Replaces `assets.json` atomically (written beside it, then renamed).
    pub fn save_assets(&self, assets: &[Asset]) -> Result<(), DataFileError> {
        let path = self.assets_path();
        let tmp = self.root.join(".assets.json.tmp");
        let text = serde_json::to_string_pretty(assets).map_err(|e| DataFileError::Write {
            path: path.clone(),
            source: std::io::Error::other(e),
        })?;
        write_durably(&tmp, text.as_bytes())?;
        std::fs::rename(&tmp, &path).map_err(|source| DataFileError::Write { path, source })
    }

    fn assets_path(&self) -> PathBuf {
        self.root.join("assets.json")
    }

    /// The built-in playbooks with `playbooks/` replacing (by id) or adding.
    pub fn playbooks(&self) -> Result<PlaybookSet, DataFileError> {
        let set = PlaybookSet::builtin().map_err(DataFileError::BuiltinPlaybooks)?;
        let dir = self.root.join("playbooks");
        let files = read_tree(&dir, &["yaml", "yml"])?;
        if files.is_empty() {
            return Ok(set);
        }
        set.with_overrides(&files)
            .map_err(|source| DataFileError::Playbooks { dir, source })
    }

    /// The built-in law catalogue with `laws/*.toml` replacing (by id) or adding.
    /// Obligations, the plan and notices all read the catalogue through here.
    pub fn laws(&self) -> Result<Catalogue, DataFileError> {
        let builtin = Catalogue::builtin().map_err(DataFileError::BuiltinLaws)?;
        let dir = self.root.join("laws");
        let files = read_tree(&dir, &["toml"])?;
        if files.is_empty() {
            return Ok(builtin);
        }
        builtin
            .with_overrides(&files)
            .map_err(|source| DataFileError::Laws { dir, source })
    }

    /// The shipped compliance duties with `compliance/*.toml` replacing (by id)
    /// or adding.
    pub fn compliance(&self) -> Result<bulwark_learn::Calendar, DataFileError> {
        let dir = self.root.join("compliance");
        let files = read_tree(&dir, &["toml"])?;
        if files.is_empty() {
            return bulwark_learn::Calendar::builtin().map_err(DataFileError::BuiltinCompliance);
        }
        bulwark_learn::Calendar::with_overrides(&files)
            .map_err(|source| DataFileError::Compliance { dir, source })
    }

    /// The shipped drill scenarios with `scenarios/*.yaml` replacing (by id) or adding.
    pub fn scenarios(&self) -> Result<bulwark_learn::drill::ScenarioSet, DataFileError> {
        let dir = self.root.join("scenarios");
        let files = read_tree(&dir, &["yaml", "yml"])?;
        let shipped = bulwark_learn::drill::ScenarioSet::builtin()
            .map_err(DataFileError::BuiltinScenarios)?;
        shipped
            .with_overrides(&files)
            .map_err(|problem| DataFileError::Scenarios { dir, problem })
    }

    /// The skimmer indicators: `pagewatch/indicators.toml` in the data
    /// directory replaces the shipped file whole (copy it to extend it).
    pub fn indicators(&self) -> Result<bulwark_pagewatch::indicators::IndicatorSet, DataFileError> {
        use bulwark_pagewatch::indicators::IndicatorSet;
        let path = self.root.join("pagewatch").join("indicators.toml");
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return IndicatorSet::builtin().map_err(|source| DataFileError::Indicators {
                    path: PathBuf::from("(built in) pagewatch/indicators.toml"),
                    source,
                });
            }
            Err(source) => return Err(DataFileError::Read { path, source }),
        };
        IndicatorSet::from_toml(&text).map_err(|source| DataFileError::Indicators { path, source })
    }

    /// The shipped training modules with `training/*.md` replacing (by id) or
    /// adding.
    pub fn training(&self) -> Result<bulwark_learn::TrainingSet, DataFileError> {
        let dir = self.root.join("training");
        let files = read_tree(&dir, &["md"])?;
        if files.is_empty() {
            return bulwark_learn::TrainingSet::builtin().map_err(DataFileError::BuiltinTraining);
        }
        bulwark_learn::TrainingSet::with_overrides(&files)
            .map_err(|source| DataFileError::Training { dir, source })
    }

    /// The shipped notice templates with `templates/notices/` replacing files by
    /// their path relative to that directory.
    pub fn templates(&self) -> Result<TemplateSet, DataFileError> {
        let dir = self.root.join("templates").join("notices");
        let files = read_tree(&dir, &["j2", "toml"])?;
        let relative = files.into_iter().map(|(path, text)| {
            let rel = Path::new(&path)
                .strip_prefix(&dir)
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or(path);
            (rel, text)
        });
        Ok(TemplateSet::builtin().with_overrides(relative))
    }

    /// The built-in log formats with the mapping files of `formats/` replacing
    /// (by name) or adding; `hunt`, `tail`, `serve --watch` and `POST
    /// /v1/events?format=` all read formats through here.
    pub fn formats(&self) -> Result<bulwark_detect::Formats, DataFileError> {
        let files = read_tree(&self.root.join("formats"), &["yml", "yaml"])?;
        let (formats, errors) = bulwark_detect::Formats::with_overrides(&files);
        match errors.into_iter().next() {
            Some(e) => Err(DataFileError::Formats(e)),
            None => Ok(formats),
        }
    }

    /// The rules `serve` runs: the built-in e-commerce pack (and SigmaHQ's web
    /// rules when asked), then every rule file under `rules/`, sorted.
    pub fn rules(&self, packs: RulePacks) -> Result<RuleFiles, DataFileError> {
        let mut files = builtin_rules(packs);
        let local = read_tree(&self.root.join("rules"), &["yml", "yaml"])?;
        let n = local.len();
        files.extend(local);
        Ok(RuleFiles { files, local: n })
    }
}

/// The shipped packs as owned `(path, text)` pairs.
pub fn builtin_rules(packs: RulePacks) -> Vec<(String, String)> {
    let owned = |files: &[(&str, &str)]| -> Vec<(String, String)> {
        files
            .iter()
            .map(|(p, t)| ((*p).to_owned(), (*t).to_owned()))
            .collect()
    };
    let mut v = Vec::new();
    if packs.ecommerce {
        v.extend(owned(bulwark_detect::packs::ECOMMERCE));
    }
    if packs.sigmahq_web {
        v.extend(owned(bulwark_detect::packs::SIGMAHQ_WEB));
    }
    v
}

/// Opens (creating) `path` and takes its exclusive lock without waiting;
/// `None` when another process holds it.
fn try_lock_file(path: PathBuf) -> Result<Option<std::fs::File>, DataFileError> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| DataFileError::Write {
            path: path.clone(),
            source,
        })?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(source)) => Err(DataFileError::Write { path, source }),
    }
}

/// Every rule file under a directory of the operator's choosing (`hunt --rules
/// DIR`), sorted; a directory without any is an error.
pub fn rule_dir(dir: &Path) -> Result<RuleFiles, DataFileError> {
    if !dir.is_dir() {
        return Err(DataFileError::Read {
            path: dir.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such directory"),
        });
    }
    let files = read_tree(dir, &["yml", "yaml"])?;
    if files.is_empty() {
        return Err(DataFileError::NoRules {
            dir: dir.to_path_buf(),
        });
    }
    let local = files.len();
    Ok(RuleFiles { files, local })
}

/// Every file under `dir` (recursively) whose extension is one of `exts`, as
/// `(path, text)` sorted by path. A missing directory holds nothing; an
/// unreadable one, or a file that is not UTF-8, is an error.
pub fn read_tree(dir: &Path, exts: &[&str]) -> Result<Vec<(String, String)>, DataFileError> {
    let mut out = Vec::new();
    if !dir.exists() {
        return Ok(out);
    }
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|source| DataFileError::Read {
            path: d.clone(),
            source,
        })?;
        for entry in entries {
            let path = entry
                .map_err(|source| DataFileError::Read {
                    path: d.clone(),
                    source,
                })?
                .path();
            if path.is_dir() {
                stack.push(path);
            } else if path
                .extension()
                .is_some_and(|x| exts.iter().any(|e| x == *e))
            {
                let text = read_text(&path)?;
                out.push((path.display().to_string(), text));
            }
        }
    }
    out.sort();
    Ok(out)
}

fn read_text(path: &Path) -> Result<String, DataFileError> {
    let bytes = std::fs::read(path).map_err(|source| DataFileError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    String::from_utf8(bytes).map_err(|_| DataFileError::NotUtf8 {
        path: path.to_path_buf(),
    })
}

/// A JSON file of the data directory; `None` when it does not exist.
fn read_json<T: DeserializeOwned>(path: &Path) -> Result<Option<T>, DataFileError> {
    let text = match std::fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes).map_err(|_| DataFileError::NotUtf8 {
            path: path.to_path_buf(),
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(DataFileError::Read {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| DataFileError::Json {
            path: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
            message: without_position(&e),
        })
}

/// serde's message without its trailing position, which the error shows first.
fn without_position(e: &serde_json::Error) -> String {
    let msg = crate::describe_json_error(e);
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    msg.strip_suffix(&suffix).map(str::to_owned).unwrap_or(msg)
}

fn write_durably(path: &Path, bytes: &[u8]) -> Result<(), DataFileError> {
    use std::io::Write as _;
    let err = |source| DataFileError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut f = std::fs::File::create(path).map_err(err)?;
    f.write_all(bytes).map_err(err)?;
    f.sync_all().map_err(err)
}
