//! The biasing-list file format (TOML) and its diagnostics.
//!
//! ```toml
//! name = "Team"
//! enabled = true
//! language = "en"
//!
//! [[entry]]
//! term = "Kubernetes"
//! sounds_like = ["cube nettys"]
//! note = "the container orchestrator"
//! ```

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use toml::Spanned;

/// One term of a biasing list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The canonical spelling, written out exactly like this (casing and apostrophes kept).
    pub term: String,
    /// Spellings the recogniser produces instead ("cube nettys"); each is replaced on sight.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sounds_like: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Entry {
    pub fn new(term: impl Into<String>) -> Self {
        Entry { term: term.into(), sounds_like: Vec::new(), note: None }
    }
}

/// A named biasing list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BiasingList {
    pub name: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default = "english")]
    pub language: String,
    #[serde(default, rename = "entry")]
    pub entries: Vec<Entry>,
}

fn yes() -> bool {
    true
}

fn english() -> String {
    "en".into()
}

/// A problem in a list file, with its place (1-based line and column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: {}", self.file.display(), self.line, self.column, self.message)
    }
}

/// Every problem found in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problems(pub Vec<Problem>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawList {
    name: Spanned<String>,
    #[serde(default = "yes")]
    enabled: bool,
    #[serde(default)]
    language: Option<Spanned<String>>,
    #[serde(default, rename = "entry")]
    entries: Vec<Spanned<RawEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    term: Spanned<String>,
    #[serde(default)]
    sounds_like: Vec<Spanned<String>>,
    #[serde(default)]
    note: Option<String>,
}

/// The field of an entry a problem is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum EntryField {
    Term,
    SoundsLike,
    Note,
}

/// A problem with one entry of a list being edited (`row` indexes the entries).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryProblem {
    pub row: usize,
    pub field: EntryField,
    pub message: String,
}

/// The rules every entry must meet, the same for a list file ([`parse`]) and a list being
/// edited ([`entry_problems`]): a term with a letter or digit, not already in the list (compared
/// by [`fold`]); no empty sounds-like spelling, none that is the term itself; a note of one
/// line.
#[derive(Default)]
struct EntryRules {
    /// Each term's key, with where it first was ("line 3", "row 2").
    seen: std::collections::HashMap<String, String>,
}

/// A broken rule: the field, which sounds-like spelling when it is one, and the message.
struct Broken {
    field: EntryField,
    spelling: Option<usize>,
    message: String,
}

impl EntryRules {
    /// What `entry` (found at `here`) breaks; a term that is new is remembered.
    fn check(&mut self, term: &str, sounds_like: &[&str], note: Option<&str>, here: impl FnOnce() -> String) -> Vec<Broken> {
        let mut broken = Vec::new();
        let mut add = |field, spelling, message: String| broken.push(Broken { field, spelling, message });
        let key = fold(term);
        if key.is_empty() {
            add(EntryField::Term, None, "empty term: it needs at least one letter or digit".into());
        } else if let Some(first) = self.seen.get(&key) {
            add(EntryField::Term, None, format!("duplicate term {:?} (first on {first})", term.trim()));
        } else {
            self.seen.insert(key.clone(), here());
        }
        for (i, s) in sounds_like.iter().enumerate() {
            if fold(s).is_empty() {
                add(EntryField::SoundsLike, Some(i), format!("empty `sounds_like` spelling for {:?}", term.trim()));
            } else if !key.is_empty() && fold(s) == key {
                add(EntryField::SoundsLike, Some(i), format!("the `sounds_like` spelling {:?} is the term itself", s.trim()));
            }
        }
        if note.is_some_and(|n| n.contains('\n')) {
            add(EntryField::Note, None, "a note is one line".into());
        }
        broken
    }
}

/// What [`parse`] would reject in these entries, row by row, for an editor to show next to
/// each field before the list is saved.
pub fn entry_problems(entries: &[Entry]) -> Vec<EntryProblem> {
    let mut rules = EntryRules::default();
    entries
        .iter()
        .enumerate()
        .flat_map(|(row, e)| {
            let spellings: Vec<&str> = e.sounds_like.iter().map(String::as_str).collect();
            rules
                .check(&e.term, &spellings, e.note.as_deref(), || format!("row {}", row + 1))
                .into_iter()
                .map(move |b| EntryProblem { row, field: b.field, message: b.message })
        })
        .collect()
}

/// 1-based line and column of byte `offset` in `text`.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The key used to find duplicates: case, spacing and apostrophe style do not make a term new.
pub fn fold(term: &str) -> String {
    crate::text::tokens(term).iter().map(|t| t.norm.as_str()).collect::<Vec<_>>().join(" ")
}

/// Parses a list from TOML text. `file` only labels the problems.
pub fn parse(text: &str, file: &Path) -> Result<BiasingList, Problems> {
    let at = |span: Range<usize>, message: String| {
        let (line, column) = line_column(text, span.start);
        Problem { file: file.to_path_buf(), line, column, message }
    };
    let raw: RawList = toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        Problems(vec![at(span, e.message().trim().to_string())])
    })?;
    let mut problems = Vec::new();
    if raw.name.get_ref().trim().is_empty() {
        problems.push(at(raw.name.span(), "`name` is empty".into()));
    }
    if let Some(lang) = &raw.language {
        let l = lang.get_ref();
        if l.len() < 2 || l.len() > 3 || !l.chars().all(|c| c.is_ascii_lowercase()) {
            problems.push(at(lang.span(), format!("`language` must be a 2- or 3-letter code such as \"en\", not {l:?}")));
        }
    }
    let mut rules = EntryRules::default();
    let mut entries = Vec::new();
    for spanned in raw.entries {
        let entry_span = spanned.span();
        let raw_entry = spanned.into_inner();
        let term = raw_entry.term.get_ref().trim().to_string();
        let spellings: Vec<&str> = raw_entry.sounds_like.iter().map(|s| s.get_ref().as_str()).collect();
        let term_span = raw_entry.term.span();
        let broken = rules.check(&term, &spellings, raw_entry.note.as_deref(), || format!("line {}", line_column(text, term_span.start).0));
        if !broken.is_empty() {
            for b in broken {
                let span = match (b.field, b.spelling) {
                    (EntryField::SoundsLike, Some(i)) => raw_entry.sounds_like[i].span(),
                    (EntryField::Note, _) => entry_span.clone(),
                    _ => term_span.clone(),
                };
                problems.push(at(span, b.message));
            }
            continue;
        }
        let sounds_like = raw_entry.sounds_like.iter().map(|s| s.get_ref().trim().to_string()).collect();
        entries.push(Entry { term, sounds_like, note: raw_entry.note.filter(|n| !n.trim().is_empty()) });
    }
    if !problems.is_empty() {
        return Err(Problems(problems));
    }
    Ok(BiasingList {
        name: raw.name.into_inner().trim().to_string(),
        enabled: raw.enabled,
        language: raw.language.map_or_else(english, |l| l.into_inner()),
        entries,
    })
}

impl BiasingList {
    pub fn new(name: impl Into<String>) -> Self {
        BiasingList { name: name.into(), enabled: true, language: english(), entries: Vec::new() }
    }

    /// The TOML text of this list.
    pub fn to_toml(&self) -> String {
        // Serializing plain strings, bools and arrays of tables cannot fail.
        toml::to_string(self).unwrap_or_default()
    }

    /// The entry whose term folds to the same key as `term`.
    pub fn find(&self, term: &str) -> Option<&Entry> {
        let key = fold(term);
        self.entries.iter().find(|e| fold(&e.term) == key)
    }

    /// Adds `entry`, or merges its `sounds_like` spellings into the entry with the same term.
    /// Returns false when nothing changed.
    pub fn add(&mut self, entry: Entry) -> bool {
        let key = fold(&entry.term);
        if let Some(existing) = self.entries.iter_mut().find(|e| fold(&e.term) == key) {
            let mut changed = false;
            for s in entry.sounds_like {
                if !existing.sounds_like.iter().any(|x| fold(x) == fold(&s)) {
                    existing.sounds_like.push(s);
                    changed = true;
                }
            }
            if entry.note.is_some() && existing.note != entry.note {
                existing.note = entry.note;
                changed = true;
            }
            changed
        } else {
            self.entries.push(entry);
            true
        }
    }

    /// Removes the entry for `term`; false when there was none.
    pub fn remove(&mut self, term: &str) -> bool {
        let key = fold(term);
        let before = self.entries.len();
        self.entries.retain(|e| fold(&e.term) != key);
        self.entries.len() != before
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(t: &str, s: &[&str]) -> Entry {
        Entry { term: t.into(), sounds_like: s.iter().map(|x| x.to_string()).collect(), note: None }
    }

    #[test]
    fn entry_problems_name_the_row_and_field() {
        let got: Vec<(usize, EntryField)> = entry_problems(&[entry("Kubernetes", &["cube nettys"]), entry(" ", &[]), entry("kubernetes", &[""]), entry("Scrivo", &["scrivo"])])
            .iter()
            .map(|p| (p.row, p.field))
            .collect();
        assert_eq!(got, [(1, EntryField::Term), (2, EntryField::Term), (2, EntryField::SoundsLike), (3, EntryField::SoundsLike)]);
        assert!(entry_problems(&[entry("Kubernetes", &["cube nettys"])]).is_empty());
    }

    fn check_err(text: &str, expected: &[(usize, usize, &str)]) {
        let problems = parse(text, Path::new("l.toml")).expect_err("should fail").0;
        let got: Vec<(usize, usize, String)> = problems.iter().map(|p| (p.line, p.column, p.message.clone())).collect();
        assert_eq!(got.len(), expected.len(), "{got:?}");
        for ((line, col, msg), (el, ec, em)) in got.iter().zip(expected) {
            assert_eq!((line, col), (el, ec), "{msg}");
            assert!(msg.contains(em), "{msg:?} should contain {em:?}");
        }
    }

    #[test]
    fn the_file_and_the_editor_apply_the_same_rules() {
        let mut two_lines = entry("Tauri", &[]);
        two_lines.note = Some("two\nlines".into());
        let entries = vec![entry("Kubernetes", &["cube nettys", "kubernetes"]), entry("kubernetes", &[]), entry("Scrivo", &[" "]), two_lines, entry("--", &[])];
        let where_first = |m: String| m.split(" (first on").next().unwrap_or_default().to_string();
        let editor: Vec<String> = entry_problems(&entries).into_iter().map(|p| where_first(p.message)).collect();
        let mut list = BiasingList::new("x");
        list.entries = entries;
        let file: Vec<String> = parse(&list.to_toml(), Path::new("x")).expect_err("rejected").0.into_iter().map(|p| where_first(p.message)).collect();
        assert_eq!(editor.len(), 5, "{editor:?}");
        assert_eq!(editor, file);
    }

    #[test]
    fn round_trip_keeps_everything() {
        let mut list = BiasingList::new("Team");
        list.enabled = false;
        list.add(Entry { term: "Anja Schmidt".into(), sounds_like: vec!["anya smith".into()], note: Some("CTO".into()) });
        list.add(Entry::new("O'Reilly"));
        list.add(Entry { term: "PostgreSQL".into(), sounds_like: vec!["post gress".into(), "postgres q l".into()], note: None });
        let text = list.to_toml();
        assert_eq!(parse(&text, Path::new("x")).expect("parses"), list);
    }

    #[test]
    fn the_example_list_parses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../biasing-lists/software-engineering.toml");
        let text = std::fs::read_to_string(&path).expect("example list");
        let list = parse(&text, &path).expect("valid");
        assert!(list.entries.iter().any(|e| e.term == "Kubernetes"));
    }

    #[test]
    fn bad_toml_names_line_and_column() {
        check_err("name = \"x\"\n[[entry]]\nterm = \"a\n", &[(3, 10, "")]);
    }

    #[test]
    fn missing_name_is_reported() {
        check_err("enabled = true\n", &[(1, 1, "missing field `name`")]);
    }

    #[test]
    fn empty_and_duplicate_terms_are_reported_with_lines() {
        let text = "name = \"x\"\n[[entry]]\nterm = \"Tauri\"\n[[entry]]\nterm = \"  \"\n[[entry]]\nterm = \"tauri\"\n";
        check_err(text, &[(5, 8, "empty term"), (7, 8, "duplicate term \"tauri\" (first on line 3)")]);
    }

    #[test]
    fn unknown_fields_and_bad_language_are_reported() {
        check_err("name = \"x\"\n[[entry]]\nterm = \"a\"\nsound_like = [\"b\"]\n", &[(4, 1, "unknown field `sound_like`")]);
        check_err("name = \"x\"\nlanguage = \"English\"\n", &[(2, 12, "2- or 3-letter code")]);
        check_err("name = \"\"\n", &[(1, 8, "`name` is empty")]);
    }

    #[test]
    fn empty_sounds_like_is_reported() {
        check_err("name = \"x\"\n[[entry]]\nterm = \"a\"\nsounds_like = [\"b\", \" \"]\n", &[(4, 21, "empty `sounds_like`")]);
    }

    #[test]
    fn add_merges_and_remove_folds_case() {
        let mut list = BiasingList::new("x");
        assert!(list.add(Entry::new("Tauri")));
        assert!(list.add(Entry { term: "tauri".into(), sounds_like: vec!["tory".into()], note: None }));
        assert!(!list.add(Entry { term: "TAURI".into(), sounds_like: vec!["Tory".into()], note: None }));
        assert_eq!(list.entries.len(), 1);
        assert_eq!(list.entries[0].sounds_like, vec!["tory".to_string()]);
        assert!(list.remove("TAURI"));
        assert!(!list.remove("Tauri"));
    }
}
