//! `cargo xtask`: nslab's commands for instructors, students and CI. This
//! file parses the command line and dispatches; the commands live in
//! `xtask::commands` (see the library's documentation for how it is wired).

use clap::{Parser, Subcommand};
use std::process::ExitCode;
use xtask::commands::{instructor, student};

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    about = "nslab: build each step, run it in a throwaway VM, compare with its snapshot"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// The language of the course's messages: hints, diagnoses and what the
    /// commands say: en, or one with a catalogue po/course/LANG.po (default:
    /// the locale's, LANG or LC_MESSAGES; English when the course does not
    /// speak it).
    #[arg(long, global = true, value_name = "LANG", value_parser = xtask::i18n::Lang::parse)]
    lang: Option<xtask::i18n::Lang>,
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
        /// Also print the results on stdout for grading (the lines for a
        /// person go to stderr): json (nslab's own, which `cargo xtask
        /// class` reads), gradescope (Gradescope's results.json), classroom
        /// (GitHub Classroom's runner result, base64).
        #[arg(long, value_enum, default_value = "text")]
        format: instructor::Format,
        /// Also write the results as a JUnit XML file (for CI and grading).
        #[arg(long, value_name = "FILE")]
        junit: Option<std::path::PathBuf>,
        /// Run every VM of the check N times, and print how they ended (a
        /// reliability benchmark).
        #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
        repeat: u32,
    },
    /// Check your exercise for a step in the VM (default: the first step
    /// you have not passed), with the likely mistake when it fails.
    Verify { step: Option<String> },
    /// Verify your exercise each time you save it: the step named, or the
    /// first step you have not passed and then the next ones as they pass.
    Watch { step: Option<String> },
    /// Show the next hint for a step (one more at each call; default: the
    /// first step you have not passed).
    Hint { step: Option<String> },
    /// Which steps you have passed, and what to do next.
    Progress,
    /// Restore a step's exercise to its original state.
    Reset {
        step: String,
        /// Do not ask before discarding your changes.
        #[arg(long)]
        yes: bool,
    },
    /// Build the course book into book/build, each translation into
    /// book/build/LANG (installs mdbook and mdbook-i18n-helpers if missing).
    Book {
        /// Instead, extract the English text's messages again into
        /// po/messages.pot and merge them into every po/LANG.po, for the
        /// translators (needs GNU gettext's msgmerge).
        #[arg(long)]
        update_po: bool,
    },
    /// Time `container /bin/true` next to util-linux unshare and a bare
    /// chroot, on the host (as root); with --vm, VMs restored from the saved
    /// one next to VMs booted cold.
    Bench {
        /// Runs of each command (default: 200, or 10 with --vm).
        #[arg(long)]
        runs: Option<usize>,
        /// Time the VMs instead: restored against booted, then verify.
        #[arg(long)]
        vm: bool,
        /// With --vm: also time a full warm `cargo xtask check`, with
        /// snapshots on and off (several minutes).
        #[arg(long, requires = "vm")]
        check: bool,
    },
    /// A class at a glance: reads the graded JSON files of its students
    /// (`check --exercises --format json`, one file a student, named after
    /// them) and writes class.csv and class.html: students × steps, where
    /// the class is stuck, the most frequent likely mistakes of each step.
    Class {
        /// Graded .json files, or directories of them.
        #[arg(required = true)]
        paths: Vec<std::path::PathBuf>,
        /// Where to write class.csv and class.html.
        #[arg(long, value_name = "DIR", default_value = "target/class")]
        out: std::path::PathBuf,
        /// First write N generated students' files into the (one) DIR, to
        /// see what the page looks like before a class is graded.
        #[arg(long, value_name = "N")]
        sample: Option<usize>,
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
        /// Only check that the exercises match their solutions, and that
        /// each step is solvable from its text (TODOs, hints, chapter).
        #[arg(long)]
        check: bool,
        /// Overwrite exercises whose TODO regions hold a student's work.
        #[arg(long)]
        force: bool,
    },
    /// Mutation-test the steps (course authors): cargo-mutants' mutants of
    /// each solution region, each run through the step's scenario; caught
    /// with a diagnosis, silently, or missed, against tests/mutants.toml.
    Mutants {
        /// Steps to test (default: all, in course order).
        steps: Vec<String>,
        /// Also print each mutant's result as JSON on stdout.
        #[arg(long, value_parser = ["text", "json"], default_value = "text")]
        format: String,
    },
    /// Check the course's message catalogue, po/course (translators).
    Messages {
        /// First write po/course/messages.pot from course.toml and xtask's
        /// messages, and merge it into po/course/fr.po (needs gettext).
        #[arg(long)]
        update: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    xtask::i18n::set(cli.lang.unwrap_or_else(xtask::i18n::from_env));
    // stdout closed early (`cargo xtask progress | head -4`): what is left
    // would go nowhere; leave as a program killed by SIGPIPE would, quietly.
    // (xtask ignores SIGPIPE, as Rust programs do, so that a QEMU gone from
    // the other end of a pipe is an error and not its death.)
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.starts_with("failed printing to std") && msg.contains("Broken pipe") {
            std::process::exit(128 + libc::SIGPIPE);
        }
        default_hook(info);
    }));
    let result = match cli.command {
        Command::Check {
            steps,
            exercises,
            format,
            junit,
            repeat,
        } => instructor::check(
            &steps,
            exercises,
            repeat as usize,
            instructor::Formats {
                format,
                junit: junit.as_deref(),
            },
        ),
        Command::Exercises { check, force } => instructor::exercises(check, force),
        Command::Mutants { steps, format } => xtask::mutants::run(&steps, format == "json"),
        Command::Messages { update } => xtask::translations::course::messages(update),
        Command::Book { update_po } => instructor::book(update_po),
        Command::Class { paths, out, sample } => xtask::class::command(&paths, &out, sample),
        Command::Bench { runs, vm, check } => instructor::bench(runs, vm, check),
        Command::Verify { step } => student::verify(step),
        Command::Watch { step } => student::watch(step),
        Command::Run {
            step,
            solution,
            args,
        } => student::run(&step, solution, &args),
        Command::Shell { step, solution } => student::shell(step, solution),
        Command::Hint { step } => student::hint(step),
        Command::Progress => student::progress(),
        Command::Reset { step, yes } => student::reset(&step, yes),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("xtask: {err:#}");
            ExitCode::from(xtask::commands::BROKEN)
        }
    }
}
