//! The biasing-list editor: the user's lists ([`scrivo_bias::Store`]), edited a whole list at a
//! time. Saves are atomic and refused when the file changed on disk since it was loaded.

use std::hash::{Hash, Hasher};
use std::path::Path;

use scrivo_bias::{store, BiasingList, Entry, EntryField};
use tauri::State;

use crate::dto::{self, ListDoc, ListSummary, ProblemField, RowProblem, SaveOutcome, TermRow, TryResult};
use crate::error::{fail, CommandResult};
use crate::state::AppState;

/// Where a save was refused because the file changed on disk (the page looks for this prefix).
pub const CONFLICT: &str = "conflict:";

/// A version of a file's text: a save must name the version it was edited from.
fn version_of(text: Option<&str>) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    format!("{:016x}", h.finish())
}

fn read(path: &Path) -> CommandResult<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(fail(format!("{}: {e}", path.display()))),
    }
}

fn row(e: &Entry) -> TermRow {
    TermRow { term: e.term.clone(), sounds_like: e.sounds_like.clone(), note: e.note.clone().unwrap_or_default() }
}

fn entry(r: &TermRow) -> Entry {
    Entry {
        term: r.term.trim().to_string(),
        sounds_like: r.sounds_like.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
        note: Some(r.note.trim().to_string()).filter(|n| !n.is_empty()),
    }
}

fn doc(path: &Path, list: &BiasingList, text: Option<&str>) -> ListDoc {
    ListDoc {
        name: list.name.clone(),
        path: path.to_string_lossy().into_owned(),
        enabled: list.enabled,
        terms: list.entries.iter().map(row).collect(),
        version: version_of(text),
    }
}

#[tauri::command]
pub fn bias_lists(state: State<'_, AppState>) -> CommandResult<Vec<ListSummary>> {
    Ok(state
        .lists()
        .all()?
        .into_iter()
        .map(|(path, list)| {
            let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            let path_text = path.to_string_lossy().into_owned();
            match list {
                Ok(l) => ListSummary { name: l.name, path: path_text, enabled: l.enabled, terms: l.entries.len(), problem: None },
                Err(e) => ListSummary { name: stem, path: path_text, enabled: false, terms: 0, problem: Some(e.to_string()) },
            }
        })
        .collect())
}

#[tauri::command]
pub fn bias_set_enabled(state: State<'_, AppState>, name: String, enabled: bool) -> CommandResult<()> {
    let (path, mut list) = state.lists().get(&name)?;
    list.enabled = enabled;
    store::save(&path, &list)?;
    state.invalidate_pipeline();
    Ok(())
}

#[tauri::command]
pub fn bias_list_get(state: State<'_, AppState>, name: String) -> CommandResult<ListDoc> {
    let (path, list) = state.lists().get(&name)?;
    let text = read(&path)?;
    Ok(doc(&path, &list, text.as_deref()))
}

#[tauri::command]
pub fn bias_list_create(state: State<'_, AppState>, name: String) -> CommandResult<ListDoc> {
    let name = name.trim().to_string();
    if name.is_empty() {
        return Err(fail("a list needs a name"));
    }
    let lists = state.lists();
    let path = lists.path_of(&name)?;
    if path.exists() {
        return Err(fail(format!("a list called {name:?} already exists ({})", path.display())));
    }
    std::fs::create_dir_all(lists.dir()).map_err(|e| fail(format!("{}: {e}", lists.dir().display())))?;
    let list = BiasingList::new(name);
    store::save_if_unchanged(&path, &list, None)?;
    let text = read(&path)?;
    state.invalidate_pipeline();
    Ok(doc(&path, &list, text.as_deref()))
}

#[tauri::command]
pub fn bias_list_delete(state: State<'_, AppState>, name: String) -> CommandResult<()> {
    let (path, _) = state.lists().get(&name)?;
    std::fs::remove_file(&path).map_err(|e| fail(format!("{}: {e}", path.display())))?;
    state.invalidate_pipeline();
    Ok(())
}

fn problems(name: &str, terms: &[TermRow]) -> Vec<RowProblem> {
    let mut out = Vec::new();
    if name.trim().is_empty() {
        out.push(RowProblem { row: None, field: ProblemField::Name, message: "the list needs a name".into() });
    }
    let entries: Vec<Entry> = terms.iter().map(entry).collect();
    for p in scrivo_bias::entry_problems(&entries) {
        let field = match p.field {
            EntryField::Term => ProblemField::Term,
            EntryField::SoundsLike => ProblemField::SoundsLike,
            EntryField::Note => ProblemField::Note,
        };
        out.push(RowProblem { row: Some(p.row), field, message: p.message });
    }
    out
}

#[tauri::command]
pub fn bias_validate(name: String, terms: Vec<TermRow>) -> Vec<RowProblem> {
    problems(&name, &terms)
}

/// Replaces the list's terms, unless the file changed since `version` (then an error
/// starting with [`CONFLICT`]) or a row has a problem.
#[tauri::command]
pub fn bias_list_save(state: State<'_, AppState>, name: String, terms: Vec<TermRow>, version: String) -> CommandResult<SaveOutcome> {
    if let Some(p) = problems(&name, &terms).first() {
        let at = p.row.map(|r| format!("row {}: ", r + 1)).unwrap_or_default();
        return Err(fail(format!("not saved: {at}{}", p.message)));
    }
    let (path, mut list) = state.lists().get_or_new(&name)?;
    let current = read(&path)?;
    if version_of(current.as_deref()) != version {
        return Err(fail(format!("{CONFLICT} {} changed on disk since it was opened", path.display())));
    }
    list.entries = terms.iter().map(entry).collect();
    match store::save_if_unchanged(&path, &list, current.as_deref()) {
        Err(scrivo_bias::BiasError::Conflict { path }) => return Err(fail(format!("{CONFLICT} {} changed on disk since it was opened", path.display()))),
        other => other?,
    }
    state.invalidate_pipeline();
    Ok(SaveOutcome { version: version_of(read(&path)?.as_deref()) })
}

#[tauri::command]
pub fn bias_import(state: State<'_, AppState>, name: String, path: String) -> CommandResult<ListDoc> {
    let imported = store::import(Path::new(&path))?;
    let (list_path, mut list) = state.lists().get_or_new(&name)?;
    for e in imported {
        list.add(e);
    }
    store::save(&list_path, &list)?;
    state.invalidate_pipeline();
    let text = read(&list_path)?;
    Ok(doc(&list_path, &list, text.as_deref()))
}

#[tauri::command]
pub fn bias_export(state: State<'_, AppState>, name: String, path: String) -> CommandResult<()> {
    let (_, list) = state.lists().get(&name)?;
    // The path comes from the save dialog, which asked before choosing an existing file.
    store::export(&list, Path::new(&path), true)?;
    Ok(())
}

/// What the enabled lists (or the list `name`) change in `sentence`, with the same guards and
/// context check a transcription uses.
#[tauri::command]
pub async fn bias_try(app: tauri::AppHandle, sentence: String, name: Option<String>) -> CommandResult<TryResult> {
    crate::state::blocking(&app, move |state| {
        let lists = state.lists();
        let names: Vec<String> = name.into_iter().collect();
        let chosen = scrivo_session::lists::lists_for(&lists, &names)?;
        let corrector = scrivo_session::lists::corrector(&chosen, scrivo_session::lists::lexicon(&state.models));
        let scorer = if corrector.is_empty() { None } else { state.context_scorer() };
        let (text, changes) = scrivo_session::lists::try_text(&corrector, scorer.as_ref().map(|s| s as &dyn scrivo_bias::ContextModel), &sentence);
        Ok(TryResult { text, changes: changes.iter().map(dto::Change::from).collect() })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(term: &str, sounds_like: &[&str]) -> TermRow {
        TermRow { term: term.into(), sounds_like: sounds_like.iter().map(|s| s.to_string()).collect(), note: String::new() }
    }

    #[test]
    fn a_version_changes_with_the_text_and_tells_a_missing_file_apart() {
        assert_eq!(version_of(Some("a")), version_of(Some("a")));
        assert_ne!(version_of(Some("a")), version_of(Some("b")));
        assert_ne!(version_of(None), version_of(Some("")));
    }

    #[test]
    fn problems_name_the_row_and_field_the_editor_shows() {
        let got = problems("Team", &[row("Kubernetes", &["cube nettys"]), row("kubernetes", &[]), row("Scrivo", &["scrivo"])]);
        let got: Vec<(Option<usize>, ProblemField)> = got.iter().map(|p| (p.row, p.field.clone())).collect();
        assert_eq!(got, [(Some(1), ProblemField::Term), (Some(2), ProblemField::SoundsLike)]);
        assert_eq!(problems(" ", &[])[0].field, ProblemField::Name);
    }

    #[test]
    fn rows_become_trimmed_entries() {
        let e = entry(&TermRow { term: " Kubernetes ".into(), sounds_like: vec![" cube nettys".into(), " ".into()], note: "  ".into() });
        assert_eq!(e, Entry { term: "Kubernetes".into(), sounds_like: vec!["cube nettys".into()], note: None });
    }
}
