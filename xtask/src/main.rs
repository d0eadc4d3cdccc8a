//! `cargo xtask`: nslab's commands for instructors, students and CI.

use clap::{Parser, Subcommand};
use std::process::ExitCode;
use xtask::check::{self, Lab, Outcome};
use xtask::course::{Course, Variant};

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    about = "nslab: build each step, run it in a throwaway VM, compare with its snapshot"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Prove the course works: every step's solution in a fresh VM against
    /// its snapshot, and the exercises derived from the solutions.
    Check {
        /// Steps to check (default: all, in course order).
        steps: Vec<String>,
        /// Check the exercises instead of the solutions (an untouched
        /// exercise fails).
        #[arg(long)]
        exercises: bool,
        /// Also print the results as JSON on stdout (for grading).
        #[arg(long, value_parser = ["text", "json"], default_value = "text")]
        format: String,
        /// Also write the results as a JUnit XML file (for CI and grading).
        #[arg(long, value_name = "FILE")]
        junit: Option<std::path::PathBuf>,
    },
    /// Check your exercise for a step in the VM (default: the first step
    /// you have not passed), with the likely mistake when it fails.
    Verify { step: Option<String> },
    /// Show the next hint for a step (one more at each call).
    Hint { step: String },
    /// Which steps you have passed, and what to do next.
    Progress,
    /// Restore a step's exercise to its original state.
    Reset {
        step: String,
        /// Do not ask before discarding your changes.
        #[arg(long)]
        yes: bool,
    },
    /// Build the course book into book/build (installs mdbook if missing).
    Book,
    /// Time `container /bin/true` next to util-linux unshare and a bare
    /// chroot, on the host (as root).
    Bench {
        /// Runs of each command.
        #[arg(long, default_value_t = 200)]
        runs: usize,
    },
    /// Run one step's program in the VM and show what it prints.
    Run {
        step: String,
        /// Run the solution instead of your exercise.
        #[arg(long)]
        solution: bool,
        /// The command line to run in the VM (default: the step's scenario).
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// An interactive shell in the VM, as root, with the step's programs on PATH.
    Shell {
        /// The step whose programs to carry (default: the last step).
        step: Option<String>,
        /// Carry the solutions instead of your exercises.
        #[arg(long)]
        solution: bool,
    },
    /// Write the exercises from the solutions' marked regions (course authors).
    Exercises {
        /// Only check that the exercises match their solutions.
        #[arg(long)]
        check: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // insta reports a mismatch by panicking after printing its diff; the
    // panic message itself adds nothing for a person.
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if !msg.starts_with("snapshot assertion") {
            eprintln!("xtask: internal error: {info}");
        }
    }));
    let result = match cli.command {
        Command::Check {
            steps,
            exercises,
            format,
            junit,
        } => cmd_check(&steps, exercises, format == "json", junit.as_deref()),
        Command::Verify { step } => cmd_verify(step),
        Command::Hint { step } => cmd_hint(&step),
        Command::Progress => cmd_progress(),
        Command::Reset { step, yes } => cmd_reset(&step, yes),
        Command::Book => cmd_book(),
        Command::Bench { runs } => xtask::bench::run(runs.max(10)).map(|()| ExitCode::SUCCESS),
        Command::Run {
            step,
            solution,
            args,
        } => cmd_run(&step, solution, &args),
        Command::Shell { step, solution } => cmd_shell(step, solution),
        Command::Exercises { check } => cmd_exercises(check),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("xtask: {err}");
            ExitCode::FAILURE
        }
    }
}

type Result<T> = xtask::Result<T>;

fn variant(solution: bool) -> Variant {
    if solution {
        Variant::Solution
    } else {
        Variant::Exercise
    }
}

fn cmd_check(
    ids: &[String],
    exercises: bool,
    json: bool,
    junit: Option<&std::path::Path>,
) -> Result<ExitCode> {
    let course = Course::load()?;
    let steps = course.select(ids)?;
    // What runs in the VMs, and whether it must match its snapshot. For a
    // student (--exercises): each exercise must. For the course itself:
    // each solution must; each untouched exercise, and the previous step's
    // solution where the manifest asks, must not.
    let mut jobs: Vec<(xtask::course::Step, Variant, bool)> = Vec::new();
    let mut failures = 0;
    if exercises {
        jobs.extend(steps.iter().map(|s| (s.clone(), Variant::Exercise, true)));
    } else {
        failures += check_exercises_in_sync(&steps)?;
        match xtask::book::build(&course) {
            Ok(()) => say(json, "ok    book       (built into book/build)"),
            Err(err) => {
                say(json, &format!("FAIL  book       {err}"));
                failures += 1;
            }
        }
        jobs.extend(steps.iter().map(|s| (s.clone(), Variant::Solution, true)));
        jobs.extend(steps.iter().map(|s| (s.clone(), Variant::Exercise, false)));
        for step in steps.iter().filter(|s| s.previous_fails) {
            jobs.push((step.clone(), Variant::Previous, false));
        }
    }
    let mut variants: Vec<Variant> = jobs.iter().map(|j| j.1).collect();
    variants.dedup();
    let lab = Lab::prepare(course, &steps, &variants)?;
    eprintln!(
        "running {} VM(s) under {}, {} at a time",
        jobs.len(),
        lab.accel.name(),
        check::parallelism()
    );
    let started = std::time::Instant::now();
    let outcomes = check::in_parallel(&jobs, check::parallelism(), |(step, variant, expect)| {
        let mut outcome = check::check(&lab, step, *variant);
        outcome.expect_match = *expect;
        say(json, &describe(&outcome));
        outcome
    });
    if json {
        println!("{}", xtask::report::json(&outcomes));
    }
    if let Some(path) = junit {
        std::fs::write(path, xtask::report::junit(&outcomes))
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let passed = outcomes.iter().filter(|o| o.ok()).count();
    let other_failures = failures;
    failures += outcomes.len() - passed;
    let vm_seconds: f64 = outcomes.iter().map(|o| o.seconds).sum();
    say(
        json,
        &format!(
            "\n{passed} passed, {failures} failed ({} VMs, {:.1} s of VM time, {:.1} s wall clock, {:.2} s per VM{})",
            outcomes.len(),
            vm_seconds,
            started.elapsed().as_secs_f64(),
            started.elapsed().as_secs_f64() / outcomes.len().max(1) as f64,
            match other_failures {
                0 => String::new(),
                n => format!("; {n} failure(s) before the VMs: book or exercises"),
            }
        ),
    );
    Ok(if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// A line for a person: on stdout, or on stderr when stdout carries JSON.
fn say(json: bool, text: &str) {
    if json {
        eprintln!("{text}");
    } else {
        println!("{text}");
    }
}

/// One line per VM run, and the details of a failure.
fn describe(outcome: &Outcome) -> String {
    let what = match (outcome.variant, outcome.expect_match) {
        (Variant::Exercise, false) => "exercise (untouched: must fail)",
        (Variant::Previous, false) => "previous step's solution (must fail)",
        (variant, _) => variant.name(),
    };
    let guest = match outcome.guest_times {
        Some((boot, scenario)) => format!(" (boot {boot:.2} s, scenario {scenario:.2} s)"),
        None => String::new(),
    };
    let mut text = format!(
        "{:<5} {:<10} {:<36} {}  {:>5.2} s{guest}",
        if outcome.ok() { "ok" } else { "FAIL" },
        outcome.step,
        what,
        outcome.accel.name(),
        outcome.seconds
    );
    // A failure that was expected needs no diff; an unexpected match does.
    if !outcome.ok() {
        if outcome.matched {
            text.push_str("\n      it matches the snapshot: it must leave something to do or test");
        }
        for line in outcome.details.lines() {
            text.push_str(&format!("\n      {line}"));
        }
    }
    text
}

/// Exercises that differ from what their solutions give: one line each.
fn check_exercises_in_sync(steps: &[xtask::course::Step]) -> Result<usize> {
    let mut drifted = 0;
    for step in steps {
        for file in xtask::exercise::derive_step(step)? {
            if file.drifted() {
                drifted += 1;
                println!(
                    "FAIL  {:<10} exercise  {} differs from its solution outside the marked regions \
                     (course authors: cargo xtask exercises; students: cargo xtask reset {})",
                    step.id,
                    file.path
                        .strip_prefix(xtask::root())
                        .unwrap_or(&file.path)
                        .display(),
                    step.id
                );
            }
        }
    }
    Ok(drifted)
}

fn cmd_exercises(check_only: bool) -> Result<ExitCode> {
    let course = Course::load()?;
    if check_only {
        let drifted = check_exercises_in_sync(&course.step)?;
        return Ok(if drifted == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        });
    }
    for step in &course.step {
        for path in xtask::exercise::write_step(step)? {
            println!(
                "wrote {}",
                path.strip_prefix(xtask::root()).unwrap_or(&path).display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn cmd_run(id: &str, solution: bool, args: &[String]) -> Result<ExitCode> {
    let course = Course::load()?;
    let step = course.find(id)?.clone();
    let variant = variant(solution);
    let lab = Lab::prepare(course, std::slice::from_ref(&step), &[variant])?;
    let script = if args.is_empty() {
        Lab::scenario(&step)?
    } else {
        let quoted: Vec<String> = args
            .iter()
            .map(|a| format!("'{}'", a.replace('\'', r"'\''")))
            .collect();
        format!("exec {}\n", quoted.join(" "))
    };
    let run = lab.boot(&step, variant, &script)?;
    print!("{}", run.stdout);
    eprint!("{}", run.stderr);
    eprintln!(
        "[{} under {} in {:.2} s: {}]",
        step.id,
        lab.accel.name(),
        run.seconds,
        run.events().collect::<Vec<_>>().join(", ")
    );
    if run.end != xtask::vm::End::Done {
        eprintln!(
            "the VM did not finish: {:?}\n{}",
            run.end,
            run.failure_details()
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(match run.scenario_end() {
        Some("exit=0") => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    })
}

fn cmd_shell(id: Option<String>, solution: bool) -> Result<ExitCode> {
    let course = Course::load()?;
    let step = match id {
        Some(id) => course.find(&id)?.clone(),
        None => course.step.last().ok_or("the course has no step")?.clone(),
    };
    let variant = variant(solution);
    let lab = Lab::prepare(course, std::slice::from_ref(&step), &[variant])?;
    eprintln!(
        "nslab VM shell ({}, {}s of step {}); `poweroff -f` or Ctrl-D leaves",
        lab.accel.name(),
        variant.name(),
        step.id
    );
    lab.shell(&step, variant)?;
    Ok(ExitCode::SUCCESS)
}

fn cmd_verify(id: Option<String>) -> Result<ExitCode> {
    let course = Course::load()?;
    let mut progress = xtask::progress::Progress::load();
    let step = match id {
        Some(id) => course.find(&id)?.clone(),
        None => match course.step.iter().find(|s| !progress.has_passed(&s.id)) {
            Some(step) => step.clone(),
            None => {
                println!("You have passed every step. Well done!");
                return Ok(ExitCode::SUCCESS);
            }
        },
    };
    println!(
        "verifying your exercise for step {}: {}",
        step.id, step.title
    );
    let lab = Lab::prepare(course, std::slice::from_ref(&step), &[Variant::Exercise])?;
    let outcome = check::check(&lab, &step, Variant::Exercise);
    println!("{}", describe(&outcome));
    if !outcome.matched {
        println!(
            "\nNot yet. Read the differences above; stuck? `cargo xtask hint {}`.",
            step.id
        );
        return Ok(ExitCode::FAILURE);
    }
    progress.mark_passed(&step.id);
    progress.save()?;
    let next = lab.course.step.iter().find(|s| !progress.has_passed(&s.id));
    match next {
        Some(next) => println!(
            "\nStep {} passed. Next: {} ({}), `cargo xtask verify {}`.",
            step.id, next.id, next.title, next.id
        ),
        None => println!("\nStep {} passed, and with it the whole course.", step.id),
    }
    Ok(ExitCode::SUCCESS)
}

fn cmd_hint(id: &str) -> Result<ExitCode> {
    let course = Course::load()?;
    let step = course.find(id)?;
    let mut progress = xtask::progress::Progress::load();
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

fn cmd_progress() -> Result<ExitCode> {
    let course = Course::load()?;
    let progress = xtask::progress::Progress::load();
    for step in &course.step {
        let mark = if progress.has_passed(&step.id) {
            "[x]"
        } else {
            "[ ]"
        };
        let hints = match progress.hints.get(&step.id) {
            Some(n) => format!("  ({n} hint(s) used)"),
            None => String::new(),
        };
        println!("{mark} {:<10} {}{hints}", step.id, step.title);
    }
    let done = course
        .step
        .iter()
        .filter(|s| progress.has_passed(&s.id))
        .count();
    println!("\n{done} of {} steps passed.", course.step.len());
    if let Some(next) = course.step.iter().find(|s| !progress.has_passed(&s.id)) {
        println!(
            "Next: read book/src/steps/{}.md, fill in the TODOs of exercises/{}/src, then `cargo xtask verify`.",
            next.id, next.id
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn cmd_reset(id: &str, yes: bool) -> Result<ExitCode> {
    let course = Course::load()?;
    let step = course.find(id)?;
    let changed: Vec<_> = xtask::exercise::derive_step(step)?
        .into_iter()
        .filter(|f| f.drifted())
        .collect();
    if changed.is_empty() {
        println!("exercises/{id} is already as it was at the start.");
        return Ok(ExitCode::SUCCESS);
    }
    for file in &changed {
        println!(
            "changed: {}",
            file.path
                .strip_prefix(xtask::root())
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
    xtask::exercise::write_step(step)?;
    println!("exercises/{id} restored.");
    Ok(ExitCode::SUCCESS)
}

fn cmd_book() -> Result<ExitCode> {
    xtask::book::build(&Course::load()?)?;
    println!("built book/build/index.html");
    Ok(ExitCode::SUCCESS)
}
