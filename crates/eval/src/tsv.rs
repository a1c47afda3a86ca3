//! Tab-separated test sets: a header line, then one row per line; no quoting (a `"` is a
//! literal character). Columns are looked up by name.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TsvError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: the file is empty (a header line is needed)")]
    NoHeader { path: PathBuf },
    #[error("{path}: no column '{column}' in the header (found: {found})")]
    MissingColumn { path: PathBuf, column: String, found: String },
    #[error("{path}:{line}: {detail}")]
    Row { path: PathBuf, line: usize, detail: String },
}

/// A whole TSV file in memory.
#[derive(Debug, Clone)]
pub struct Table {
    pub path: PathBuf,
    columns: HashMap<String, usize>,
    rows: Vec<(usize, Vec<String>)>,
}

/// One row, with its 1-based line number.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    table: &'a Table,
    pub line: usize,
    cells: &'a [String],
}

impl Table {
    pub fn read(path: &Path) -> Result<Table, TsvError> {
        let text = std::fs::read_to_string(path).map_err(|source| TsvError::Io { path: path.into(), source })?;
        Self::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Table, TsvError> {
        let mut lines = text.lines().enumerate();
        let header = lines.next().map(|(_, h)| h).filter(|h| !h.trim().is_empty()).ok_or_else(|| TsvError::NoHeader { path: path.into() })?;
        let columns = header.split('\t').enumerate().map(|(i, name)| (name.trim().to_owned(), i)).collect();
        let rows = lines
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| (i + 1, l.split('\t').map(str::to_owned).collect()))
            .collect();
        Ok(Table { path: path.into(), columns, rows })
    }

    /// Fails naming the column when the header lacks it.
    pub fn require(&self, column: &str) -> Result<(), TsvError> {
        if self.columns.contains_key(column) {
            return Ok(());
        }
        let mut found: Vec<&str> = self.columns.keys().map(String::as_str).collect();
        found.sort_unstable();
        Err(TsvError::MissingColumn { path: self.path.clone(), column: column.into(), found: found.join(", ") })
    }

    pub fn has(&self, column: &str) -> bool {
        self.columns.contains_key(column)
    }

    pub fn rows(&self) -> impl Iterator<Item = Row<'_>> {
        self.rows.iter().map(move |(line, cells)| Row { table: self, line: *line, cells })
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

impl<'a> Row<'a> {
    /// The cell in `column`; an error naming file and line when the row is too short.
    pub fn get(&self, column: &str) -> Result<&'a str, TsvError> {
        self.table.require(column)?;
        let index = self.table.columns[column];
        self.cells.get(index).map(String::as_str).ok_or_else(|| TsvError::Row {
            path: self.table.path.clone(),
            line: self.line,
            detail: format!("no '{column}' cell (the row has {} of the header's {} columns)", self.cells.len(), self.table.columns.len()),
        })
    }

    /// The cell in `column`, or `None` when the file has no such column.
    pub fn optional(&self, column: &str) -> Option<&'a str> {
        let index = *self.table.columns.get(column)?;
        self.cells.get(index).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_columns_by_name() {
        let t = Table::parse(Path::new("m.tsv"), "file\treference\tset\na.wav\tHello \"there\"\tx\n\nb.wav\tBye\ty\n").expect("parse");
        let rows: Vec<_> = t.rows().collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].get("reference").expect("cell"), "Hello \"there\"");
        assert_eq!(rows[1].line, 4);
        assert_eq!(rows[1].optional("set"), Some("y"));
        assert_eq!(rows[1].optional("nope"), None);
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let t = Table::parse(Path::new("m.tsv"), "file\treference\na.wav\n").expect("parse");
        let row = t.rows().next().expect("row");
        assert_eq!(row.get("reference").expect_err("short").to_string(), "m.tsv:2: no 'reference' cell (the row has 1 of the header's 2 columns)");
        assert!(t.require("set").expect_err("missing").to_string().contains("no column 'set'"));
        assert!(Table::parse(Path::new("e.tsv"), "").is_err());
    }
}
