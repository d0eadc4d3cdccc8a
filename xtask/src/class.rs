//! `cargo xtask class DIR…`: a class at a glance, from the graded JSON
//! files of its students (`cargo xtask check --exercises --format json`,
//! one file a student, named after the student): a table (CSV) and one
//! self-contained HTML page of students × steps, coloured by verdict, with
//! where the class is stuck and the most frequent diagnoses of each step.

use crate::course::Course;
use crate::i18n::msg;
use crate::tr;
use anyhow::{Context, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A run of a graded file, as [`crate::report::json`] writes it; what the
/// class report reads of it.
#[derive(Debug, Deserialize)]
struct Run {
    step: String,
    #[serde(default)]
    variant: String,
    verdict: String,
    #[serde(default)]
    diagnoses: Vec<String>,
}

/// A graded file.
#[derive(Debug, Deserialize)]
struct Graded {
    #[serde(default)]
    points: u32,
    #[serde(default)]
    points_possible: u32,
    #[serde(default)]
    commit: Option<String>,
    #[serde(default)]
    author: Option<String>,
    runs: Vec<Run>,
}

/// How a student stands on a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Cell {
    Pass,
    Fail,
    /// The check could not run: the machine's, not the student's.
    Error,
    /// The file has no run of this step.
    Missing,
}

impl Cell {
    /// Its word in the CSV, and its class in the HTML.
    pub fn name(self) -> &'static str {
        match self {
            Cell::Pass => "pass",
            Cell::Fail => "fail",
            Cell::Error => "error",
            Cell::Missing => "missing",
        }
    }

    fn mark(self) -> &'static str {
        match self {
            Cell::Pass => "✓",
            Cell::Fail => "✗",
            Cell::Error => "!",
            Cell::Missing => "·",
        }
    }
}

/// One student: the name of their file, and their steps.
#[derive(Debug)]
pub struct Student {
    pub name: String,
    pub author: String,
    pub commit: String,
    pub points: u32,
    pub points_possible: u32,
    /// Per step id: the cell and the diagnoses its runs got.
    pub steps: BTreeMap<String, (Cell, Vec<String>)>,
}

/// A class: its steps in course order (then any the course does not
/// know, as the files name them), and its students in name order.
#[derive(Debug)]
pub struct Class {
    pub steps: Vec<String>,
    pub students: Vec<Student>,
}

/// The graded files of `paths`: each a JSON file, or a directory whose
/// `*.json` files are read (not its subdirectories).
fn files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(path)
                .with_context(|| format!("{}: cannot read the directory", path.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "json"))
                .collect();
            anyhow::ensure!(
                !found.is_empty(),
                "{}: no graded .json file in this directory",
                path.display()
            );
            found.sort();
            files.extend(found);
        } else {
            anyhow::ensure!(path.is_file(), "{}: no such file", path.display());
            files.push(path.clone());
        }
    }
    Ok(files)
}

/// Read the class from the graded files of `paths`.
pub fn read(course: &Course, paths: &[PathBuf]) -> Result<Class> {
    let mut steps: Vec<String> = course.step.iter().map(|s| s.id.clone()).collect();
    let mut students: Vec<Student> = Vec::new();
    for file in files(paths)? {
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("{}: cannot read it", file.display()))?;
        let graded: Graded = serde_json::from_str(&text).with_context(|| {
            format!(
                "{}: not a graded file of `cargo xtask check --format json`",
                file.display()
            )
        })?;
        let mut cells: BTreeMap<String, (Cell, Vec<String>)> = BTreeMap::new();
        for run in graded.runs.iter().filter(|r| r.variant != "course") {
            let cell = match run.verdict.as_str() {
                "pass" => Cell::Pass,
                "fail" => Cell::Fail,
                "error" => Cell::Error,
                other => anyhow::bail!(
                    "{}: step {} has the verdict '{other}' (pass, fail or error)",
                    file.display(),
                    run.step
                ),
            };
            if !steps.contains(&run.step) {
                steps.push(run.step.clone());
            }
            let entry = cells
                .entry(run.step.clone())
                .or_insert((Cell::Pass, Vec::new()));
            // Several runs of a step (check --repeat): the worst stands,
            // an error before a failure (the step was not judged).
            entry.0 = match (entry.0, cell) {
                (Cell::Error, _) | (_, Cell::Error) => Cell::Error,
                (Cell::Fail, _) | (_, Cell::Fail) => Cell::Fail,
                _ => Cell::Pass,
            };
            for d in &run.diagnoses {
                if !entry.1.contains(d) {
                    entry.1.push(d.clone());
                }
            }
        }
        let name = file
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let name = match students.iter().any(|s| s.name == name) {
            true => file.display().to_string(),
            false => name,
        };
        students.push(Student {
            name,
            author: graded.author.unwrap_or_default(),
            commit: graded.commit.unwrap_or_default(),
            points: graded.points,
            points_possible: graded.points_possible,
            steps: cells,
        });
    }
    students.sort_by(|a, b| a.name.cmp(&b.name));
    // Only the steps some student was graded on: a class graded on the
    // first steps is not a wall of "missing".
    steps.retain(|s| students.iter().any(|st| st.steps.contains_key(s)));
    Ok(Class { steps, students })
}

impl Class {
    /// A student's cell for `step`.
    pub fn cell(&self, student: &Student, step: &str) -> Cell {
        student.steps.get(step).map_or(Cell::Missing, |c| c.0)
    }

    /// The class's diagnoses of `step`, the most frequent first (then in
    /// text order), with how many students got each.
    pub fn diagnoses(&self, step: &str) -> Vec<(String, usize)> {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for student in &self.students {
            if let Some((_, diagnoses)) = student.steps.get(step) {
                for d in diagnoses {
                    *counts.entry(d).or_default() += 1;
                }
            }
        }
        let mut counts: Vec<(String, usize)> = counts
            .into_iter()
            .map(|(d, n)| (d.to_string(), n))
            .collect();
        counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        counts
    }

    /// How many students passed `step`.
    pub fn passed(&self, step: &str) -> usize {
        self.students
            .iter()
            .filter(|s| self.cell(s, step) == Cell::Pass)
            .count()
    }

    /// How many students have `step` as their first step not passed: where
    /// the class is stuck.
    pub fn stuck_at(&self, step: &str) -> usize {
        self.students
            .iter()
            .filter(|s| {
                self.steps
                    .iter()
                    .find(|st| self.cell(s, st) != Cell::Pass)
                    .is_some_and(|st| st == step)
            })
            .count()
    }

    /// The table: a row a student, a column a step (pass, fail, error,
    /// missing), with the points and the checkout.
    pub fn csv(&self) -> Result<String> {
        let mut out = csv::Writer::from_writer(Vec::new());
        let mut header = vec!["student", "author", "commit", "points", "points_possible"];
        header.extend(self.steps.iter().map(String::as_str));
        out.write_record(&header)?;
        for s in &self.students {
            let mut row = vec![
                s.name.clone(),
                s.author.clone(),
                s.commit.clone(),
                s.points.to_string(),
                s.points_possible.to_string(),
            ];
            row.extend(
                self.steps
                    .iter()
                    .map(|st| self.cell(s, st).name().to_string()),
            );
            out.write_record(&row)?;
        }
        Ok(String::from_utf8(out.into_inner()?)?)
    }

    /// The page: one HTML file with its style, and nothing to fetch.
    pub fn html(&self) -> String {
        let mut page = String::new();
        let title = tr!(msg::CLASS_TITLE, students = self.students.len());
        page.push_str(&format!(
            "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
            crate::i18n::lang().code(),
            escape(&title),
            escape(&title)
        ));
        page.push_str(&format!(
            "<p class=\"legend\"><span class=\"pass\">✓</span> {} <span class=\"fail\">✗</span> {} <span class=\"error\">!</span> {} <span class=\"missing\">·</span> {}</p>\n",
            escape(&tr!(msg::CLASS_PASS)),
            escape(&tr!(msg::CLASS_FAIL)),
            escape(&tr!(msg::CLASS_ERROR)),
            escape(&tr!(msg::CLASS_MISSING)),
        ));
        // Where the class is: per step, passed and stuck there, and its
        // most frequent diagnoses.
        page.push_str(&format!(
            "<h2>{}</h2>\n<table class=\"steps\">\n<tr><th></th><th>{}</th><th>{}</th><th>{}</th></tr>\n",
            escape(&tr!(msg::CLASS_BY_STEP)),
            escape(&tr!(msg::CLASS_PASSED)),
            escape(&tr!(msg::CLASS_STUCK)),
            escape(&tr!(msg::CLASS_DIAGNOSES)),
        ));
        let total = self.students.len().max(1);
        for step in &self.steps {
            let passed = self.passed(step);
            let diagnoses: String = self
                .diagnoses(step)
                .iter()
                .take(3)
                .map(|(d, n)| format!("<li><b>{n}</b> {}</li>", escape(d)))
                .collect();
            page.push_str(&format!(
                "<tr><th>{}</th><td class=\"n\"><span class=\"bar\" style=\"width:{}px\"></span> {passed}</td><td>{}</td><td><ul>{diagnoses}</ul></td></tr>\n",
                escape(step),
                passed * 120 / total,
                self.stuck_at(step),
            ));
        }
        page.push_str("</table>\n");
        // The grid.
        page.push_str(&format!(
            "<h2>{}</h2>\n<table class=\"grid\">\n<thead><tr><th>{}</th><th>{}</th>",
            escape(&tr!(msg::CLASS_GRID)),
            escape(&tr!(msg::CLASS_STUDENT)),
            escape(&tr!(msg::CLASS_POINTS)),
        ));
        for step in &self.steps {
            page.push_str(&format!("<th>{}</th>", escape(step)));
        }
        page.push_str("</tr></thead>\n<tbody>\n");
        for s in &self.students {
            let who = match s.commit.is_empty() {
                true => s.author.clone(),
                false => format!("{} {}", s.author, s.commit),
            };
            page.push_str(&format!(
                "<tr><th title=\"{}\">{}</th><td>{}/{}</td>",
                escape(&who),
                escape(&s.name),
                s.points,
                s.points_possible
            ));
            for step in &self.steps {
                let cell = self.cell(s, step);
                let why = s
                    .steps
                    .get(step)
                    .map(|(_, d)| d.join("\n"))
                    .unwrap_or_default();
                page.push_str(&format!(
                    "<td class=\"{}\" title=\"{}\">{}</td>",
                    cell.name(),
                    escape(&format!("{step}: {}\n{why}", cell.name())),
                    cell.mark()
                ));
            }
            page.push_str("</tr>\n");
        }
        page.push_str("</tbody>\n</table>\n</body>\n</html>\n");
        page
    }
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}\
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.5em}\
table{border-collapse:collapse}th,td{padding:2px 6px;text-align:left;vertical-align:top}\
.steps td,.steps th{border-bottom:1px solid #ddd}.steps ul{margin:0;padding-left:1.2em}.steps td.n{white-space:nowrap}\
.bar{display:inline-block;height:.8em;background:#2e7d32}\
.grid thead th{position:sticky;top:0;background:#fff}.grid tbody th{white-space:nowrap}\
.grid td.pass,.grid td.fail,.grid td.error,.grid td.missing{text-align:center;min-width:2.2em}\
.pass{background:#c8e6c9;color:#1b5e20}.fail{background:#ffcdd2;color:#b71c1c}\
.error{background:#fff59d;color:#795548}.missing{background:#eeeeee;color:#9e9e9e}\
.legend span{display:inline-block;width:1.4em;text-align:center}";

/// `text` made safe for HTML text and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' => out.push_str("&#10;"),
            c => out.push(c),
        }
    }
    out
}

/// `cargo xtask class DIR… [--out DIR] [--sample N]`: writes `class.csv` and
/// `class.html` into `out`, and says where and how long it took.
pub fn command(
    paths: &[PathBuf],
    out: &Path,
    sample_of: Option<usize>,
) -> Result<std::process::ExitCode> {
    let course = Course::load()?;
    if let Some(n) = sample_of {
        let [dir] = paths else {
            anyhow::bail!("--sample writes into one directory; {} given", paths.len());
        };
        std::fs::create_dir_all(dir)
            .with_context(|| format!("{}: cannot create it", dir.display()))?;
        sample(&course, n, dir)?;
    }
    let started = std::time::Instant::now();
    let class = read(&course, paths)?;
    std::fs::create_dir_all(out).with_context(|| format!("{}: cannot create it", out.display()))?;
    let csv_path = out.join("class.csv");
    let html_path = out.join("class.html");
    std::fs::write(&csv_path, class.csv()?)
        .with_context(|| format!("{}: cannot write it", csv_path.display()))?;
    std::fs::write(&html_path, class.html())
        .with_context(|| format!("{}: cannot write it", html_path.display()))?;
    println!(
        "{}",
        tr!(
            msg::CLASS_WROTE,
            students = class.students.len(),
            steps = class.steps.len(),
            csv = csv_path.display(),
            html = html_path.display(),
            seconds = format!("{:.2}", started.elapsed().as_secs_f64())
        )
    );
    Ok(std::process::ExitCode::SUCCESS)
}

/// A generated class of `n` graded files in `dir`, for tests and to see
/// the page: each student has passed a first few steps, and fails the next
/// with one of its diagnoses (some with two, a few could not run).
pub fn sample(course: &Course, n: usize, dir: &Path) -> Result<()> {
    let steps: Vec<&crate::course::Step> = course.step.iter().collect();
    for i in 0..n {
        // A deterministic spread: most students in the first steps.
        let reached = (i * 7919 % 97) * steps.len() / 97;
        let runs: Vec<serde_json::Value> = steps
            .iter()
            .enumerate()
            .map(|(k, step)| {
                let (verdict, diagnoses): (&str, Vec<String>) = if k < reached {
                    ("pass", Vec::new())
                } else if i % 23 == 0 && k == reached {
                    ("error", Vec::new())
                } else {
                    let d = &step.diagnosis;
                    let mut found = Vec::new();
                    if !d.is_empty() {
                        found.push(d[(i * 31 + k) % d.len().min(4)].message_tr());
                        if i % 5 == 0 && d.len() > 1 {
                            found.push(d[(i + 1) % d.len()].message_tr());
                        }
                    }
                    ("fail", found)
                };
                serde_json::json!({
                    "name": format!("{}::exercise", step.id),
                    "step": step.id,
                    "variant": "exercise",
                    "passed": verdict == "pass",
                    "verdict": verdict,
                    "diagnoses": diagnoses,
                    "points": u32::from(verdict == "pass") * step.points,
                    "points_possible": step.points,
                })
            })
            .collect();
        let points: u32 = steps.iter().take(reached).map(|s| s.points).sum();
        let graded = serde_json::json!({
            "points": points,
            "points_possible": steps.iter().map(|s| s.points).sum::<u32>(),
            "commit": format!("{:040x}", i * 2654435761),
            "author": format!("Student {i:03} <s{i:03}@example.org>"),
            "runs": runs,
        });
        std::fs::write(
            dir.join(format!("student-{i:03}.json")),
            serde_json::to_string_pretty(&graded)?,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_class_of_200_makes_its_table_and_page() {
        let course = Course::load().unwrap();
        let dir = tempfile::tempdir().unwrap();
        sample(&course, 200, dir.path()).unwrap();
        let class = read(&course, &[dir.path().to_path_buf()]).unwrap();
        assert_eq!(class.students.len(), 200);
        let ids: Vec<&String> = course.step.iter().map(|s| &s.id).collect();
        assert_eq!(
            class.steps.iter().collect::<Vec<_>>(),
            ids,
            "in course order"
        );
        // The table: a header and a row a student, read back by a CSV reader.
        let csv = class.csv().unwrap();
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let header = reader.headers().unwrap().clone();
        assert_eq!(&header[0], "student");
        assert_eq!(header.len(), 5 + ids.len());
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 200);
        assert_eq!(&rows[0][0], "student-000");
        // The first student (i = 0) reached no step: an error on the first
        // (i % 23 == 0), then failures.
        assert_eq!(&rows[0][5], "error");
        assert_eq!(&rows[0][6], "fail");
        for row in &rows {
            assert!(
                row.iter()
                    .skip(5)
                    .all(|c| ["pass", "fail", "error"].contains(&c))
            );
        }
        // Where the class is stuck adds up to the students who have not
        // passed everything.
        let stuck: usize = class.steps.iter().map(|s| class.stuck_at(s)).sum();
        let done = class
            .students
            .iter()
            .filter(|s| class.steps.iter().all(|st| class.cell(s, st) == Cell::Pass))
            .count();
        assert_eq!(stuck + done, 200);
        // The most frequent diagnoses of the first step, most frequent first.
        let first = class.diagnoses(&class.steps[0]);
        assert!(!first.is_empty());
        assert!(first.windows(2).all(|w| w[0].1 >= w[1].1), "{first:?}");
        // The page: every student and step, its style inline, nothing fetched.
        let html = class.html();
        assert!(html.starts_with("<!DOCTYPE html>"));
        for s in &class.students {
            assert!(html.contains(&format!(">{}</th>", s.name)));
        }
        assert!(
            !html.contains("src=") && !html.contains("href="),
            "self-contained"
        );
        let cells: usize = ["pass", "fail", "error", "missing"]
            .iter()
            .map(|c| html.matches(&format!("<td class=\"{c}\"")).count())
            .sum();
        assert_eq!(cells, 200 * ids.len());
        assert!(html.contains(&escape(&first[0].0)));
    }

    #[test]
    fn what_is_not_a_graded_file_is_one_line_naming_it() {
        let course = Course::load().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let err = |paths: &[PathBuf]| format!("{:#}", read(&course, paths).unwrap_err());
        assert!(err(&[dir.path().to_path_buf()]).contains("no graded .json file"));
        let missing = dir.path().join("nobody.json");
        assert!(err(std::slice::from_ref(&missing)).contains("nobody.json: no such file"));
        let bad = dir.path().join("alice.json");
        std::fs::write(&bad, "{\"runs\": 3}").unwrap();
        let message = err(std::slice::from_ref(&bad));
        assert!(
            message.contains("alice.json: not a graded file"),
            "{message}"
        );
        assert!(!message.contains('\n'), "{message}");
        std::fs::write(
            &bad,
            r#"{"runs": [{"step": "sem", "verdict": "maybe", "diagnoses": []}]}"#,
        )
        .unwrap();
        assert!(err(&[bad]).contains("the verdict 'maybe'"));
    }

    #[test]
    fn a_name_of_the_page_is_escaped() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
