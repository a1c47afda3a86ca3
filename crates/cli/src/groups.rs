//! Rows of a TSV that belong together (the turns of one call): every N-th group only, so that
//! training and evaluation use disjoint groups.

use anyhow::Result;
use clap::Args;
use scrivo_eval::{Row, Table};

#[derive(Args, Clone, Debug)]
pub struct GroupArgs {
    /// Rows belong together by this column (e.g. `call_id`): only every `--every`-th group, from
    /// `--offset`, is used (`scrivo train data --every 2 --offset 0` trains on the Earnings-21
    /// calls that `scrivo eval fillers --every 2 --offset 1` measures).
    #[arg(long)]
    pub group: Option<String>,
    #[arg(long, default_value_t = 1)]
    pub every: usize,
    #[arg(long, default_value_t = 0)]
    pub offset: usize,
}

impl GroupArgs {
    /// The rows of `table` in the chosen groups, in order; every row when `grouped` is false or
    /// no `--group` is given.
    pub fn select<'a>(&self, table: &'a Table, grouped: bool) -> Result<Vec<Row<'a>>> {
        let Some(column) = self.group.as_ref().filter(|_| grouped) else { return Ok(table.rows().collect()) };
        table.require(column)?;
        let every = self.every.max(1);
        let (mut group, mut last, mut out) = (0usize, None::<&str>, Vec::new());
        for row in table.rows() {
            let value = row.get(column)?;
            if last.is_some_and(|l| l != value) {
                group += 1;
            }
            last = Some(value);
            if group % every == self.offset % every {
                out.push(row);
            }
        }
        Ok(out)
    }
}
