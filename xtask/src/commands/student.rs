//! The students' commands: verify, run, shell, hint, progress, reset.
//! What they say is in the student's language: each message is English in
//! [`crate::i18n::msg`], shown through [`tr!`].

use super::{BROKEN, Say, run_jobs};
use crate::course::{Course, Step, Variant};
use crate::exercise::{self, State};
use crate::i18n::msg;
use crate::lab::{End, Lab};
use crate::plan::{self, Audience};
use crate::progress::Progress;
use crate::verdict::Verdict;
use crate::{root, tr};
use anyhow::Result;
use std::process::ExitCode;

fn variant(solution: bool) -> Variant {
    if solution {
        Variant::Solution
    } else {
        Variant::Exercise
    }
}

/// The step to work on: the one named, or the first not passed.
fn current_step(course: &Course, id: Option<&str>) -> Result<Option<Step>> {
    let progress = Progress::load();
    Ok(match id {
        Some(id) => Some(course.exercise_step(id)?.clone()),
        None => course
            .step
            .iter()
            .find(|s| !progress.has_passed(s))
            .cloned(),
    })
}

/// `cargo xtask verify [STEP]`: the student's exercise in the VM.
pub fn verify(id: Option<String>) -> Result<ExitCode> {
    crate::lab::check_environment()?;
    let course = Course::load()?;
    let Some(step) = current_step(&course, id.as_deref())? else {
        println!("{}", tr!(msg::ALL_PASSED));
        return Ok(ExitCode::SUCCESS);
    };
    verify_step(course, &step)
}

/// Verify one step's exercise, and record the result in the progress.
fn verify_step(course: Course, step: &Step) -> Result<ExitCode> {
    let mut progress = Progress::load();
    println!(
        "{}",
        tr!(msg::VERIFYING, step = step.id, title = step.title_tr())
    );
    let jobs = plan::plan(std::slice::from_ref(step), Audience::Exercises)?;
    let lab = Lab::prepare(course, &plan::builds(&jobs))?;
    let outcome = run_jobs(&lab, &jobs, Say { json: false })
        .pop()
        .expect("one job, one outcome");
    match &outcome.verdict {
        Verdict::Pass => {}
        Verdict::Fail { .. } => {
            progress.withdraw(step);
            progress.save()?;
            println!("\n{}", tr!(msg::NOT_YET, step = step.id));
            return Ok(ExitCode::FAILURE);
        }
        Verdict::Broken(_) => {
            println!("\n{}", tr!(msg::COULD_NOT_RUN, step = step.id));
            return Ok(ExitCode::from(BROKEN));
        }
    }
    progress.mark_passed(step)?;
    progress.save()?;
    let next = lab.course.step.iter().find(|s| !progress.has_passed(s));
    match next {
        Some(next) => println!(
            "\n{}",
            tr!(
                msg::PASSED_NEXT,
                step = step.id,
                next = next.id,
                title = next.title_tr()
            )
        ),
        None => println!("\n{}", tr!(msg::PASSED_ALL, step = step.id)),
    }
    Ok(ExitCode::SUCCESS)
}

/// `cargo xtask watch [STEP]`: verify the current step each time its
/// exercise is saved, and go on to the next step once it passes; Ctrl-C
/// leaves. File events wake it up where they work (inotify); it also looks
/// every second, for file systems where they do not (shared folders of a
/// VM, WSL). What counts as a change is the exercise's digest, so an
/// editor's temporary files do not rerun anything.
pub fn watch(id: Option<String>) -> Result<ExitCode> {
    use notify::Watcher;
    crate::lab::check_environment()?;
    let (tx, rx) = std::sync::mpsc::channel();
    let mut watcher = notify::recommended_watcher(move |_: notify::Result<notify::Event>| {
        let _ = tx.send(());
    })
    .ok();
    let mut step_id = id;
    loop {
        let course = Course::load()?;
        let Some(step) = current_step(&course, step_id.as_deref())? else {
            println!("{}", tr!(msg::ALL_PASSED));
            return Ok(ExitCode::SUCCESS);
        };
        let dir = root().join("exercises").join(&step.id);
        let last = crate::progress::digest(&step)?;
        let passed = verify_step(course, &step)? == ExitCode::SUCCESS;
        if passed {
            // On to the first step not passed yet.
            step_id = None;
            continue;
        }
        let events = watcher
            .as_mut()
            .is_some_and(|w| w.watch(&dir, notify::RecursiveMode::Recursive).is_ok());
        let how = tr!(if events {
            msg::WATCH_EVENTS
        } else {
            msg::WATCH_POLLING
        });
        println!("\n{}", tr!(msg::WATCHING, step = step.id, how = how));
        loop {
            let _ = rx.recv_timeout(std::time::Duration::from_secs(1));
            // Let an editor finish writing, then drop the other events.
            std::thread::sleep(std::time::Duration::from_millis(150));
            while rx.try_recv().is_ok() {}
            if crate::progress::digest(&step)? != last {
                break;
            }
        }
        if let Some(w) = watcher.as_mut() {
            let _ = w.unwatch(&dir);
        }
    }
}

/// `cargo xtask run STEP [--solution] [-- CMD…]`.
pub fn run(id: &str, solution: bool, args: &[String]) -> Result<ExitCode> {
    crate::lab::check_environment()?;
    let course = Course::load()?;
    let step = course.find(id)?.clone();
    let variant = variant(solution);
    let lab = Lab::prepare(course, &[(step.clone(), variant)])?;
    let script = if args.is_empty() {
        Lab::scenario(&step)?
    } else {
        format!("exec {}\n", shell_words::join(args))
    };
    let run = lab.boot(&step, variant, &script)?;
    print!("{}", run.stdout);
    eprint!("{}", run.stderr);
    let mut ends: Vec<String> = run.report.end().iter().map(|e| e.to_string()).collect();
    ends.extend(
        run.report
            .leaks()
            .map(|(what, n)| crate::normalize::leak(what, n)),
    );
    if ends.is_empty() {
        ends.push(tr!(msg::NO_REPORT));
    }
    eprintln!(
        "{}",
        tr!(
            msg::RUN_SUMMARY,
            step = step.id,
            accel = run.accel.name(),
            seconds = format!("{:.2}", run.seconds),
            ends = ends.join(", ")
        )
    );
    if run.end != End::Done {
        eprintln!("{}\n{}", run.end, run.failure_details());
        return Ok(ExitCode::from(if run.end.may_be_the_programs() {
            1
        } else {
            BROKEN
        }));
    }
    Ok(match run.report.end() {
        Some(end) if end.success() => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    })
}

/// `cargo xtask shell [STEP] [--solution]`.
pub fn shell(id: Option<String>, solution: bool) -> Result<ExitCode> {
    let course = Course::load()?;
    let step = match id {
        Some(id) => course.find(&id)?.clone(),
        None => course
            .step
            .last()
            .ok_or_else(|| anyhow::anyhow!("the course has no step"))?
            .clone(),
    };
    crate::lab::check_environment()?;
    crate::lab::require_terminal(&step)?;
    let variant = variant(solution);
    let lab = Lab::prepare(course, &[(step.clone(), variant)])?;
    let banner = match variant {
        Variant::Solution => msg::SHELL_SOLUTIONS,
        _ => msg::SHELL_EXERCISES,
    };
    eprintln!("{}", tr!(banner, accel = lab.accel.name(), step = step.id));
    lab.shell(&step, variant)?;
    Ok(ExitCode::SUCCESS)
}

/// `cargo xtask hint STEP`: one more hint at each call.
pub fn hint(id: &str) -> Result<ExitCode> {
    let course = Course::load()?;
    let step = course.exercise_step(id)?;
    let mut progress = Progress::load();
    let shown = progress.hints.get(id).copied().unwrap_or(0);
    let hints = step.hints_tr();
    let now = (shown + 1).min(hints.len());
    for (n, hint) in hints.iter().take(now).enumerate() {
        let title = tr!(msg::HINT, n = n + 1, total = hints.len(), step = id);
        println!("{title}\n  {hint}\n");
    }
    if now == hints.len() {
        println!("{}", tr!(msg::LAST_HINT));
    }
    progress.hints.insert(id.to_string(), now);
    progress.save()?;
    Ok(ExitCode::SUCCESS)
}

/// `cargo xtask progress`.
pub fn progress() -> Result<ExitCode> {
    let course = Course::load()?;
    let progress = Progress::load();
    for step in &course.step {
        let mark = if progress.has_passed(step) {
            "[x]"
        } else if progress.passed_before(step) {
            "[~]"
        } else {
            "[ ]"
        };
        let mut notes = Vec::new();
        if progress.passed_before(step) {
            notes.push(tr!(msg::CHANGED_SINCE));
        }
        if let Some(n) = progress.hints.get(&step.id) {
            notes.push(tr!(msg::HINTS_USED, n = n));
        }
        let notes = match notes.is_empty() {
            true => String::new(),
            false => format!("  ({})", notes.join("; ")),
        };
        println!("{mark} {:<10} {}{notes}", step.id, step.title_tr());
    }
    let done = course
        .step
        .iter()
        .filter(|s| progress.has_passed(s))
        .count();
    println!(
        "\n{}",
        tr!(msg::STEPS_PASSED, done = done, total = course.step.len())
    );
    if let Some(next) = course.step.iter().find(|s| !progress.has_passed(s)) {
        println!(
            "{}",
            tr!(msg::NEXT_STEP, step = next.id, teaches = next.teaches_tr())
        );
        println!("{}", tr!(msg::NEXT_READ, step = next.id));
    }
    Ok(ExitCode::SUCCESS)
}

/// `cargo xtask reset STEP [--yes]`: the exercise as it was at the start.
pub fn reset(id: &str, yes: bool) -> Result<ExitCode> {
    let course = Course::load()?;
    let step: &Step = course.exercise_step(id)?;
    let changed: Vec<_> = exercise::derive_step(step)?
        .into_iter()
        .filter(|f| f.state() != State::Untouched)
        .collect();
    let mut progress = Progress::load();
    if changed.is_empty() {
        println!("{}", tr!(msg::ALREADY_PRISTINE, step = id));
        return Ok(ExitCode::SUCCESS);
    }
    for file in &changed {
        let path = file.path.strip_prefix(root()).unwrap_or(&file.path);
        println!("{}", tr!(msg::CHANGED_FILE, path = path.display()));
    }
    if !yes {
        use std::io::{BufRead, Write};
        print!("{}", tr!(msg::DISCARD_ASK));
        let _ = std::io::stdout().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        // Yes in either language, whichever the question was asked in.
        let answer = answer.trim().to_lowercase();
        if !matches!(answer.as_str(), "y" | "yes" | "o" | "oui") {
            println!("{}", tr!(msg::NOTHING_CHANGED));
            return Ok(ExitCode::FAILURE);
        }
    }
    exercise::write_step(step, true)?;
    progress.withdraw(step);
    progress.save()?;
    println!("{}", tr!(msg::RESTORED, step = id));
    Ok(ExitCode::SUCCESS)
}
