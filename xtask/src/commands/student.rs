//! The students' commands: verify, run, shell, hint, progress, reset.

use super::{BROKEN, Say, run_jobs};
use crate::course::{Course, Step, Variant};
use crate::exercise::{self, State};
use crate::lab::{End, Lab};
use crate::plan::{self, Audience};
use crate::progress::Progress;
use crate::root;
use crate::verdict::Verdict;
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
        println!("You have passed every step. Well done!");
        return Ok(ExitCode::SUCCESS);
    };
    verify_step(course, &step)
}

/// Verify one step's exercise, and record the result in the progress.
fn verify_step(course: Course, step: &Step) -> Result<ExitCode> {
    let mut progress = Progress::load();
    println!(
        "verifying your exercise for step {}: {}",
        step.id, step.title
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
            println!(
                "\nNot yet. Read the differences above; stuck? `cargo xtask hint {}`.",
                step.id
            );
            return Ok(ExitCode::FAILURE);
        }
        Verdict::Broken(_) => {
            println!(
                "\nThe check could not run, so it says nothing of your program: see above. \
                 Run `cargo xtask verify {}` again; if it fails the same way, show the lines above to your instructor.",
                step.id
            );
            return Ok(ExitCode::from(BROKEN));
        }
    }
    progress.mark_passed(step)?;
    progress.save()?;
    let next = lab.course.step.iter().find(|s| !progress.has_passed(s));
    match next {
        Some(next) => println!(
            "\nStep {} passed. Next: {} ({}), `cargo xtask verify {}`.",
            step.id, next.id, next.title, next.id
        ),
        None => println!("\nStep {} passed, and with it the whole course.", step.id),
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
            println!("You have passed every step. Well done!");
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
        println!(
            "\nwatching exercises/{}/ ({}); save to verify again, Ctrl-C to leave",
            step.id,
            if events {
                "file events"
            } else {
                "looking every second"
            }
        );
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
        ends.push("no report from the VM".into());
    }
    eprintln!(
        "[{} under {} in {:.2} s: {}]",
        step.id,
        run.accel.name(),
        run.seconds,
        ends.join(", ")
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
    eprintln!(
        "nslab VM shell ({}, {}s of step {}); `poweroff -f` or Ctrl-D leaves",
        lab.accel.name(),
        variant.name(),
        step.id
    );
    lab.shell(&step, variant)?;
    Ok(ExitCode::SUCCESS)
}

/// `cargo xtask hint STEP`: one more hint at each call.
pub fn hint(id: &str) -> Result<ExitCode> {
    let course = Course::load()?;
    let step = course.exercise_step(id)?;
    let mut progress = Progress::load();
    let shown = progress.hints.get(id).copied().unwrap_or(0);
    let now = (shown + 1).min(step.hints.len());
    for (n, hint) in step.hints.iter().take(now).enumerate() {
        println!(
            "Hint {} of {} for {}:\n  {hint}\n",
            n + 1,
            step.hints.len(),
            id
        );
    }
    if now == step.hints.len() {
        println!("That was the last hint; the book's chapter has the whole story.");
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
            notes.push("passed, but changed since: verify it again".to_string());
        }
        if let Some(n) = progress.hints.get(&step.id) {
            notes.push(format!("{n} hint(s) used"));
        }
        let notes = match notes.is_empty() {
            true => String::new(),
            false => format!("  ({})", notes.join("; ")),
        };
        println!("{mark} {:<10} {}{notes}", step.id, step.title);
    }
    let done = course
        .step
        .iter()
        .filter(|s| progress.has_passed(s))
        .count();
    println!("\n{done} of {} steps passed.", course.step.len());
    if let Some(next) = course.step.iter().find(|s| !progress.has_passed(s)) {
        println!(
            "Next: read book/src/steps/{}.md, fill in the TODOs of exercises/{}/src, then `cargo xtask verify`.",
            next.id, next.id
        );
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
        println!("exercises/{id} is already as it was at the start.");
        return Ok(ExitCode::SUCCESS);
    }
    for file in &changed {
        println!(
            "changed: {}",
            file.path
                .strip_prefix(root())
                .unwrap_or(&file.path)
                .display()
        );
    }
    if !yes {
        use std::io::{BufRead, Write};
        print!("Discard your work in these files? [y/N] ");
        let _ = std::io::stdout().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            println!("Nothing changed.");
            return Ok(ExitCode::FAILURE);
        }
    }
    exercise::write_step(step, true)?;
    progress.withdraw(step);
    progress.save()?;
    println!("exercises/{id} restored.");
    Ok(ExitCode::SUCCESS)
}
