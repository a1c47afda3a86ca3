//! Splitting one batch over several processes (a Slurm array, a Kubernetes Indexed Job) with no
//! coordinator: every process plans the same inputs in the same order and takes its share.

use std::fmt;

/// Share `index` of `count` (0-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

/// The variables a scheduler sets to a task's index, in the order they are read by `auto/N`.
pub const INDEX_VARIABLES: [&str; 2] = ["JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID"];

impl Shard {
    /// Reads `I/N` (e.g. `2/8`), or `auto/N`, where the index comes from the scheduler:
    /// Kubernetes' `JOB_COMPLETION_INDEX`, or Slurm's `SLURM_ARRAY_TASK_ID` counted from
    /// `SLURM_ARRAY_TASK_MIN` (so `--array=1-8` works as well as `--array=0-7`). `var` looks a
    /// variable up (the process environment in the CLI).
    pub fn parse(spec: &str, var: impl Fn(&str) -> Option<String>) -> Result<Shard, String> {
        let (index, count) = spec.split_once('/').ok_or_else(|| format!("--shard {spec}: expected INDEX/COUNT, e.g. 0/4 or auto/4"))?;
        let count: usize = count.trim().parse().ok().filter(|&n| n > 0).ok_or_else(|| format!("--shard {spec}: the count must be a whole number of at least 1"))?;
        let index = match index.trim() {
            "auto" => scheduler_index(&var).map_err(|e| format!("--shard {spec}: {e}"))?,
            i => i.parse().map_err(|_| format!("--shard {spec}: the index must be a whole number or `auto`"))?,
        };
        if index >= count {
            return Err(format!("--shard {spec}: index {index} is not below the count {count} (indexes start at 0)"));
        }
        Ok(Shard { index, count })
    }
}

fn scheduler_index(var: &impl Fn(&str) -> Option<String>) -> Result<usize, String> {
    let number = |name: &str| -> Result<Option<usize>, String> {
        var(name).map(|v| v.trim().parse::<usize>().map_err(|_| format!("{name}={v} is not a whole number"))).transpose()
    };
    if let Some(i) = number("JOB_COMPLETION_INDEX")? {
        return Ok(i);
    }
    if let Some(i) = number("SLURM_ARRAY_TASK_ID")? {
        let first = number("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
        return i.checked_sub(first).ok_or_else(|| format!("SLURM_ARRAY_TASK_ID {i} is below SLURM_ARRAY_TASK_MIN {first}"));
    }
    Err(format!("`auto` needs one of {} set by the scheduler", INDEX_VARIABLES.join(" or ")))
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(spec: &str, vars: &[(&str, &str)]) -> Result<Shard, String> {
        Shard::parse(spec, |name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned()))
    }

    #[test]
    fn explicit_and_scheduler_indexes() {
        assert_eq!(check("2/8", &[]), Ok(Shard { index: 2, count: 8 }));
        assert_eq!(check("auto/4", &[("JOB_COMPLETION_INDEX", "3")]), Ok(Shard { index: 3, count: 4 }));
        assert_eq!(check("auto/4", &[("SLURM_ARRAY_TASK_ID", "0")]), Ok(Shard { index: 0, count: 4 }));
        // `#SBATCH --array=1-4`
        assert_eq!(check("auto/4", &[("SLURM_ARRAY_TASK_ID", "4"), ("SLURM_ARRAY_TASK_MIN", "1")]), Ok(Shard { index: 3, count: 4 }));
        assert_eq!(Shard { index: 1, count: 3 }.to_string(), "1/3");
    }

    #[test]
    fn bad_specs_say_what_is_wrong() {
        for (spec, vars, says) in [
            ("3", &[][..], "expected INDEX/COUNT"),
            ("4/4", &[], "not below the count"),
            ("0/0", &[], "at least 1"),
            ("x/2", &[], "whole number or `auto`"),
            ("auto/2", &[], "JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID"),
            ("auto/2", &[("JOB_COMPLETION_INDEX", "two")], "not a whole number"),
            ("auto/2", &[("SLURM_ARRAY_TASK_ID", "0"), ("SLURM_ARRAY_TASK_MIN", "1")], "below SLURM_ARRAY_TASK_MIN"),
        ] {
            let e = check(spec, vars).expect_err(spec);
            assert!(e.contains(says) && e.contains(spec), "{spec}: {e}");
        }
    }
}
