//! Bad input, run through the real `hipaa` binary: every case must end with exit code 2 and an
//! error naming the file, the place in it and what was expected, with no panic, within bounded
//! memory.
//!
//! Each child runs with its address space limited (so a memory blow-up aborts it, which fails
//! the case) and under a generous kill guard (so a hang fails the case instead of blocking CI;
//! the guard is not a timed assertion, it only turns "never ends" into a failure). Inputs are
//! built in a temporary directory per test; nothing large is committed.

use std::ffi::OsString;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The address space a scan may use: far above what any case needs (tens of MiB), far below
/// what a runaway allocation reaches.
const MEMORY_LIMIT_BYTES: u64 = 2 << 30;

/// When a scan that has not ended is killed. Debug builds take seconds on the largest inputs.
const KILL_AFTER: Duration = Duration::from_secs(180);

/// What a scan of bad input printed and how it ended.
struct Outcome {
    status: Option<ExitStatus>,
    stderr: String,
}

/// What a scan reads on standard input.
#[derive(Clone)]
enum Feed {
    /// Nothing: standard input is `/dev/null`.
    Nothing,
    /// These bytes through a pipe, then the pipe's end.
    Bytes(Vec<u8>),
    /// `head` through a pipe, then `repeated` again and again until the scan stops reading.
    Endless { head: Vec<u8>, repeated: Vec<u8> },
    /// This file, redirected as `hipaa scan - < FILE` does.
    File(PathBuf),
}

impl Feed {
    fn stdin(&self) -> Stdio {
        match self {
            Feed::Nothing => Stdio::null(),
            Feed::File(path) => Stdio::from(std::fs::File::open(path).expect("the fed file")),
            Feed::Bytes(_) | Feed::Endless { .. } => Stdio::piped(),
        }
    }

    /// Writes into the pipe until done or until the reader is gone, then closes it.
    fn write(self, mut pipe: std::process::ChildStdin) {
        use std::io::Write;
        match self {
            Feed::Bytes(bytes) => {
                let _ = pipe.write_all(&bytes);
            }
            Feed::Endless { head, repeated } => {
                if pipe.write_all(&head).is_ok() {
                    while pipe.write_all(&repeated).is_ok() {}
                }
            }
            Feed::Nothing | Feed::File(_) => {}
        }
    }
}

fn run_hipaa(args: &[OsString]) -> Outcome {
    run_hipaa_fed(args, &Feed::Nothing)
}

fn run_hipaa_fed(args: &[OsString], feed: &Feed) -> Outcome {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hipaa"));
    command
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("RUST_BACKTRACE")
        .stdin(feed.stdin())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    // SAFETY: setrlimit is async-signal-safe and touches no memory of the parent.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: MEMORY_LIMIT_BYTES,
                rlim_max: MEMORY_LIMIT_BYTES,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command.spawn().expect("the hipaa binary starts");
    // Fed on a thread of its own: the pipe holds only so much, and the scan may stop reading.
    let writer = child.stdin.take().map(|pipe| {
        let feed = feed.clone();
        std::thread::spawn(move || feed.write(pipe))
    });

    // Read stderr on a thread, so that a child writing a lot cannot block on a full pipe.
    let mut pipe = child.stderr.take().expect("stderr is piped");
    let reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = pipe.read_to_end(&mut text);
        String::from_utf8_lossy(&text).into_owned()
    });

    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("the child can be waited for") {
            break Some(status);
        }
        if started.elapsed() > KILL_AFTER {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    if let Some(writer) = writer {
        writer.join().expect("the feed is written");
    }
    Outcome {
        status,
        stderr: reader.join().unwrap_or_default(),
    }
}

/// Where in the named file the error must point.
enum Place {
    /// This text right after the file's path, e.g. `:4:1: `.
    At(String),
    /// Some line, `:N`, right after the file's path (where the exact column is the parser's
    /// business, such as the first bad byte of random data).
    SomeLine,
    /// A field of a plan: ``in `resource_changes[0].address` `` and a line.
    Field(&'static str),
    /// Nothing to point into: a directory, a command-line flag. The reason is the comment.
    Whole,
}

fn at(line: u32, column: u32) -> Place {
    Place::At(format!(":{line}:{column}: "))
}

fn line(line: u32) -> Place {
    Place::At(format!(":{line}: "))
}

/// This line and some column: where the parser's column says little.
fn on_line(line: u32) -> Place {
    Place::At(format!(":{line}:"))
}

/// One bad input and what its error must say.
struct Case {
    name: &'static str,
    args: Vec<OsString>,
    /// What the scan reads on standard input.
    feed: Feed,
    /// The file (or flag) the error must name.
    names: String,
    place: Place,
    /// Phrases the error must contain besides an expectation.
    says: Vec<&'static str>,
}

impl Case {
    fn new(name: &'static str, args: Vec<OsString>, names: impl AsRef<Path>, place: Place) -> Case {
        Case {
            name,
            args,
            feed: Feed::Nothing,
            names: names.as_ref().display().to_string(),
            place,
            says: Vec::new(),
        }
    }

    fn saying(mut self, phrase: &'static str) -> Case {
        self.says.push(phrase);
        self
    }

    fn fed(mut self, feed: Feed) -> Case {
        self.feed = feed;
        self
    }
}

/// True when the text says what was expected: "expected ..." that is not "unexpected", or
/// clap's "possible values" for a flag.
fn says_what_was_expected(text: &str) -> bool {
    text.contains("possible values")
        || text
            .match_indices("expected")
            .any(|(i, _)| !text[..i].ends_with("un") && !text[..i].ends_with("Un"))
}

/// Runs every case; returns one line per problem.
fn problems(cases: &[Case]) -> Vec<String> {
    let mut found = Vec::new();
    for case in cases {
        let outcome = run_hipaa_fed(&case.args, &case.feed);
        let stderr = &outcome.stderr;
        let mut fail =
            |why: String| found.push(format!("{}: {why}\n  stderr: {stderr}", case.name));
        match outcome.status {
            None => fail(format!("did not end within {} s", KILL_AFTER.as_secs())),
            Some(status) if status.code() != Some(2) => fail(format!(
                "exit code {:?}, signal {:?}, expected exit code 2",
                status.code(),
                status.signal()
            )),
            Some(_) => {}
        }
        if stderr.contains("panicked") || stderr.contains("RUST_BACKTRACE") {
            fail("panicked".to_string());
        }
        if !stderr.contains(&case.names) {
            fail(format!("does not name {}", case.names));
        }
        let placed = match &case.place {
            Place::At(text) => stderr.contains(&format!("{}{text}", case.names)),
            Place::SomeLine => names_a_line(stderr, &case.names),
            Place::Field(path) => {
                names_a_line(stderr, &case.names) && stderr.contains(&format!("in `{path}`"))
            }
            Place::Whole => true,
        };
        if !placed {
            fail("does not name the place".to_string());
        }
        if !says_what_was_expected(stderr) {
            fail("does not say what was expected".to_string());
        }
        for phrase in &case.says {
            if !stderr.contains(phrase) {
                fail(format!("does not say {phrase:?}"));
            }
        }
    }
    found
}

/// `file:N` somewhere in the text.
fn names_a_line(text: &str, file: &str) -> bool {
    text.match_indices(file).any(|(i, _)| {
        let rest = &text[i + file.len()..];
        rest.strip_prefix(':')
            .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
    })
}

fn assert_all_refused(cases: &[Case]) {
    let found = problems(cases);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// Valid input of a shape close to refused input: each scan must end with findings or none
/// (exit code 0 or 1), not an error.
fn assert_all_scan(runs: &[Vec<OsString>]) {
    let mut found = Vec::new();
    for args in runs {
        let outcome = run_hipaa(args);
        let code = outcome.status.and_then(|status| status.code());
        if !matches!(code, Some(0 | 1)) {
            found.push(format!("{args:?}: exit {code:?}: {}", outcome.stderr));
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// A directory of its own for one test, removed when the test ends. Under cargo's directory
/// for test files rather than the system's: creating ten thousand files in a crowded /tmp took
/// longer than the whole rest of the suite.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Scratch {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("hipaa-bad-inputs-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    /// A folder `name` holding `main.tf` with this text; returns the folder.
    fn tf(&self, name: &str, text: impl AsRef<[u8]>) -> PathBuf {
        let dir = self.0.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("main.tf"), text).unwrap();
        dir
    }

    /// A file `name` with these bytes; returns its path.
    fn file(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn scan(path: &Path) -> Vec<OsString> {
    vec!["scan".into(), path.into()]
}

fn scan_with(path: &Path, extra: &[&str]) -> Vec<OsString> {
    let mut args = scan(path);
    args.extend(extra.iter().map(OsString::from));
    args
}

/// A `main.tf` case: the folder is scanned and the error names its main.tf.
fn tf_case(scratch: &Scratch, name: &'static str, text: &str, place: Place) -> Case {
    let dir = scratch.tf(name, text);
    Case::new(name, scan(&dir), dir.join("main.tf"), place)
}

#[test]
fn hcl_syntax_errors() {
    let scratch = Scratch::new("syntax");
    let s = &scratch;
    let cases = vec![
        tf_case(
            s,
            "unclosed-block",
            "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"x\"\n",
            at(2, 15),
        )
        .saying("the file ends before"),
        tf_case(
            s,
            "unclosed-string",
            "locals {\n  name = \"abc\n}\n",
            at(2, 3),
        ),
        tf_case(
            s,
            "unclosed-heredoc",
            "locals {\n  text = <<EOT\nhello\n}\n",
            at(3, 1),
        )
        .saying("heredoc end delimiter"),
        tf_case(
            s,
            "bad-heredoc-marker",
            "locals {\n  text = <<123\nhi\n123\n}\n",
            at(2, 12),
        ),
        tf_case(
            s,
            "missing-equals",
            "locals {\n  name \"x\"\n}\n",
            on_line(2),
        ),
        tf_case(
            s,
            "invalid-identifier",
            "locals {\n  1name = 1\n}\n",
            at(2, 3),
        ),
        tf_case(
            s,
            "stray-closing-brace",
            "locals {\n  a = 1\n}\n}\n",
            at(4, 1),
        )
        .saying("closing bracket left over"),
        tf_case(s, "stray-closing-bracket", "]\n", at(1, 1)),
        tf_case(
            s,
            "exponent-without-digits",
            "locals {\n  n = 1e\n}\n",
            at(2, 9),
        ),
        tf_case(
            s,
            "unterminated-interpolation",
            "locals {\n  s = \"${var.a\"\n}\n",
            at(2, 15),
        ),
        tf_case(
            s,
            "empty-interpolation",
            "locals {\n  s = \"${}\"\n}\n",
            at(2, 10),
        ),
        tf_case(
            s,
            "unclosed-template-directive",
            "locals {\n  s = \"%{if true}a\"\n}\n",
            on_line(2),
        ),
        tf_case(
            s,
            "unknown-escape",
            "locals {\n  s = \"\\q\"\n}\n",
            at(2, 10),
        )
        .saying("escape"),
        tf_case(
            s,
            "short-unicode-escape",
            "locals {\n  s = \"\\u12\"\n}\n",
            at(2, 10),
        )
        .saying("4 hexadecimal digits"),
        tf_case(
            s,
            "object-missing-comma",
            "locals {\n  o = {a = 1 b}\n}\n",
            at(2, 14),
        ),
        tf_case(s, "dangling-traversal", "locals {\n  x = a.\n}\n", at(3, 1)),
        tf_case(
            s,
            "two-values-on-a-line",
            "locals {\n  x = 1 2\n}\n",
            at(2, 9),
        ),
        tf_case(
            s,
            "repeated-argument",
            "locals {\n  a = 1\n  a = 2\n}\n",
            at(3, 3),
        )
        .saying("redefined attribute"),
        tf_case(
            s,
            "repeated-resource",
            "resource \"aws_s3_bucket\" \"b\" {}\nresource \"aws_s3_bucket\" \"b\" {}\n",
            line(2),
        )
        .saying("declared twice"),
        tf_case(
            s,
            "repeated-variable",
            "variable \"a\" {}\nvariable \"a\" {}\n",
            line(2),
        )
        .saying("declared twice"),
        tf_case(
            s,
            "resource-with-one-label",
            "resource \"aws_s3_bucket\" {\n}\n",
            line(1),
        )
        .saying("two labels"),
        tf_case(
            s,
            "argument-where-a-block-is-expected",
            "locals {\n  a = 1\n}\nvariable = \"x\"\n",
            line(4),
        )
        .saying("outside any block"),
    ];
    assert_all_refused(&cases);
}

/// Random bytes, the same on every run (xorshift), with the bytes UTF-8 never uses.
fn binary_bytes(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut bytes: Vec<u8> = (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    bytes[len / 2] = 0xff;
    bytes
}

#[test]
fn files_that_cannot_be_read_as_terraform() {
    let scratch = Scratch::new("files");
    let root = &scratch.0;
    let mut cases = Vec::new();

    let dir = scratch.tf("binary", binary_bytes(4096));
    cases.push(
        Case::new(
            "binary-data",
            scan(&dir),
            dir.join("main.tf"),
            Place::SomeLine,
        )
        .saying("not valid UTF-8"),
    );

    let mut text = b"locals {\n  a = 1\n  b = \"caf".to_vec();
    text.extend_from_slice(&[0xc3, 0x28]);
    text.extend_from_slice(b"\"\n}\n");
    let dir = scratch.tf("invalid-utf8", text);
    cases.push(
        Case::new(
            "invalid-utf8-in-a-string",
            scan(&dir),
            dir.join("main.tf"),
            at(3, 11),
        )
        .saying("not valid UTF-8"),
    );

    let dir = root.join("self-link");
    std::fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink("main.tf", dir.join("main.tf")).unwrap();
    cases.push(
        Case::new(
            "symlink-to-itself",
            scan(&dir),
            dir.join("main.tf"),
            Place::Whole,
        )
        .saying("cannot read the file"),
    );

    let dir = root.join("dangling-link");
    std::fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink("elsewhere.tf", dir.join("main.tf")).unwrap();
    cases.push(
        Case::new(
            "symlink-to-nothing",
            scan(&dir),
            dir.join("main.tf"),
            Place::Whole,
        )
        .saying("cannot read the file"),
    );

    // A directory whose only way down leads back up: discovery must end, and say that there
    // is nothing to scan. A directory has no line to point at.
    let dir = root.join("loop");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::os::unix::fs::symlink("..", dir.join("sub/up")).unwrap();
    std::fs::write(dir.join("sub/notes.txt"), "no terraform here").unwrap();
    cases.push(
        Case::new("directory-symlink-loop", scan(&dir), &dir, Place::Whole)
            .saying("no Terraform files"),
    );

    // A named pipe would block a reader until something writes to it. A file has no line
    // before it is read.
    let dir = root.join("fifo");
    std::fs::create_dir_all(&dir).unwrap();
    make_fifo(&dir.join("main.tf"));
    cases.push(
        Case::new(
            "named-pipe-as-main-tf",
            scan(&dir),
            dir.join("main.tf"),
            Place::Whole,
        )
        .saying("not a regular file"),
    );

    // chmod 000 does not stop root (tests often run as root in containers). There, the same
    // case is made unreadable the other way a file can be: a named pipe beside a good file.
    let dir = root.join("unreadable");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("main.tf"), "locals {\n  a = 1\n}\n").unwrap();
    let unreadable = dir.join("variables.tf");
    std::fs::write(&unreadable, "variable \"a\" {}\n").unwrap();
    set_mode(&unreadable, 0o000);
    let case = Case::new("unreadable-file", scan(&dir), &unreadable, Place::Whole);
    if std::fs::File::open(&unreadable).is_ok() {
        std::fs::remove_file(&unreadable).unwrap();
        make_fifo(&unreadable);
        cases.push(case.saying("not a regular file"));
    } else {
        cases.push(case.saying("ermission denied"));
    }

    let missing = root.join("does-not-exist");
    cases.push(
        Case::new("nonexistent-path", scan(&missing), &missing, Place::Whole)
            .saying("no such file or directory"),
    );

    let binary_plan = scratch.file("plan.out", b"PK\x03\x04\x14\x00\x00\x00binary plan");
    cases.push(
        Case::new(
            "binary-plan",
            scan(&binary_plan),
            &binary_plan,
            Place::Whole,
        )
        .saying("terraform show -json"),
    );

    assert_all_refused(&cases);
    set_mode(&unreadable, 0o644);
}

fn make_fifo(path: &Path) {
    let name = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: the name is a valid C string that outlives the call.
    let made = unsafe { libc::mkfifo(name.as_ptr(), 0o644) };
    assert_eq!(made, 0, "mkfifo {}", path.display());
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
}

#[test]
fn modules_that_include_themselves() {
    let scratch = Scratch::new("modules");
    let mut cases = Vec::new();

    let dir = scratch.tf("self", "module \"me\" {\n  source = \"./\"\n}\n");
    cases.push(
        Case::new(
            "module-calls-itself",
            scan(&dir),
            dir.join("main.tf"),
            line(1),
        )
        .saying("includes itself"),
    );

    let dir = scratch.tf("cycle", "module \"a\" {\n  source = \"./a\"\n}\n");
    scratch.file(
        "cycle/a/main.tf",
        "module \"b\" {\n  source = \"../b\"\n}\n",
    );
    scratch.file(
        "cycle/b/main.tf",
        "locals {\n  x = 1\n}\n\nmodule \"a\" {\n  source = \"../a\"\n}\n",
    );
    cases.push(
        Case::new(
            "module-cycle-a-b-a",
            scan(&dir),
            dir.join("b/main.tf"),
            line(5),
        )
        .saying("includes itself"),
    );

    let dir = scratch.tf("no-source", "module \"m\" {\n  count = 1\n}\n");
    cases.push(
        Case::new(
            "module-without-source",
            scan(&dir),
            dir.join("main.tf"),
            line(1),
        )
        .saying("no `source`"),
    );

    assert_all_refused(&cases);
}

/// A resource block with this meta-argument line.
fn bucket_with(meta: &str) -> String {
    format!("resource \"aws_s3_bucket\" \"b\" {{\n  {meta}\n  bucket = \"x\"\n}}\n")
}

#[test]
fn count_and_for_each_terraform_rejects() {
    let scratch = Scratch::new("expansion");
    let s = &scratch;
    let map_or_set = "expected a map, or a set of strings";
    let whole_number = "expected a whole number";
    let cases = vec![
        tf_case(
            s,
            "for-each-list",
            &bucket_with("for_each = [\"a\", \"b\"]"),
            line(2),
        )
        .saying(map_or_set),
        tf_case(
            s,
            "for-each-string",
            &bucket_with("for_each = \"abc\""),
            line(2),
        )
        .saying(map_or_set),
        tf_case(s, "for-each-number", &bucket_with("for_each = 3"), line(2)).saying(map_or_set),
        tf_case(s, "for-each-null", &bucket_with("for_each = null"), line(2)).saying(map_or_set),
        tf_case(
            s,
            "for-each-set-of-numbers",
            &bucket_with("for_each = toset([1, 2])"),
            line(2),
        )
        .saying("a set holding a number"),
        // The scanner's limit on elements is far below ten million, and is reached without
        // building the collection.
        tf_case(
            s,
            "for-each-huge-collection",
            &bucket_with("for_each = toset([for i in range(10000000) : tostring(i)])"),
            line(2),
        )
        .saying("more than 1,048,576 elements"),
        tf_case(s, "count-negative", &bucket_with("count = -1"), line(2)).saying(whole_number),
        tf_case(s, "count-fraction", &bucket_with("count = 1.5"), line(2)).saying(whole_number),
        tf_case(s, "count-text", &bucket_with("count = \"many\""), line(2)).saying(whole_number),
        tf_case(
            s,
            "count-huge",
            &bucket_with("count = 100000000000"),
            line(2),
        )
        .saying("expected at most 100000"),
        tf_case(
            s,
            "count-and-for-each",
            "resource \"aws_s3_bucket\" \"b\" {\n  count    = 1\n  for_each = {a = 1}\n}\n",
            line(3),
        )
        .saying("expected at most one of them"),
        tf_case(
            s,
            "module-count-negative",
            "module \"m\" {\n  source = \"./m\"\n  count  = -2\n}\n",
            line(3),
        )
        .saying(whole_number),
    ];
    std::fs::create_dir_all(scratch.0.join("module-count-negative/m")).unwrap();
    assert_all_refused(&cases);
}

/// What people scan every day must keep scanning: `for_each` over a variable without a
/// default (a reusable module) and keys taken from attributes known only after apply (valid
/// once the resource exists). Both give one instance and a note, not an error.
#[test]
fn for_each_not_known_before_apply_keeps_scanning() {
    let scratch = Scratch::new("unknown-expansion");
    let reusable = scratch.tf(
        "reusable",
        "variable \"names\" {\n  type = set(string)\n}\n\n\
         resource \"aws_s3_bucket\" \"b\" {\n  for_each = var.names\n  bucket   = each.key\n}\n",
    );
    let computed_keys = scratch.tf(
        "computed-keys",
        "resource \"random_id\" \"r\" {\n  byte_length = 4\n}\n\n\
         resource \"aws_s3_bucket\" \"b\" {\n  for_each = { (random_id.r.hex) = 1 }\n}\n",
    );
    assert_all_scan(&[scan(&reusable), scan(&computed_keys)]);
}

#[test]
fn reference_cycles_terraform_refuses() {
    let scratch = Scratch::new("cycles");
    let s = &scratch;
    let mut cases = vec![
        tf_case(
            s,
            "two-locals",
            "locals {\n  a = local.b\n  b = local.a\n}\n",
            line(2),
        )
        .saying("local.a -> local.b -> local.a"),
        tf_case(
            s,
            "local-reads-itself",
            "locals {\n  name = \"${local.name}-x\"\n}\n",
            line(2),
        )
        .saying("local.name -> local.name"),
        tf_case(
            s,
            "resource-reads-itself",
            "resource \"aws_s3_bucket\" \"b\" {\n  bucket = aws_s3_bucket.b.id\n}\n",
            line(1),
        )
        .saying("aws_s3_bucket.b -> aws_s3_bucket.b"),
        tf_case(
            s,
            "through-a-resource",
            "locals {\n  alias = aws_kms_key.k.arn\n}\n\n\
             resource \"aws_kms_key\" \"k\" {\n  description = local.alias\n}\n",
            line(2),
        )
        .saying("local.alias -> aws_kms_key.k -> local.alias"),
        tf_case(
            s,
            "through-depends-on",
            "resource \"aws_kms_key\" \"k\" {\n  depends_on = [aws_s3_bucket.b]\n}\n\n\
             resource \"aws_s3_bucket\" \"b\" {\n  bucket = aws_kms_key.k.id\n}\n",
            line(1),
        )
        .saying("aws_kms_key.k -> aws_s3_bucket.b -> aws_kms_key.k"),
        tf_case(
            s,
            "module-count-reads-its-output",
            "module \"m\" {\n  source = \"./m\"\n  count  = length(module.m[0].names)\n}\n",
            line(1),
        )
        .saying("module.m -> module.m.output.names -> module.m"),
    ];
    scratch.file(
        "module-count-reads-its-output/m/main.tf",
        "output \"names\" {\n  value = [\"a\"]\n}\n",
    );

    // local.name feeds the module's argument, which its output reads back through a local
    // and a resource of the module.
    let dir = scratch.tf(
        "through-a-module",
        "locals {\n  name = module.store.bucket\n}\n\n\
         module \"store\" {\n  source = \"./store\"\n  name   = local.name\n}\n",
    );
    scratch.file(
        "through-a-module/store/main.tf",
        "variable \"name\" {}\n\nlocals {\n  prefixed = \"phi-${var.name}\"\n}\n\n\
         resource \"aws_s3_bucket\" \"b\" {\n  bucket = local.prefixed\n}\n\n\
         output \"bucket\" {\n  value = aws_s3_bucket.b.bucket\n}\n",
    );
    cases.push(
        Case::new("through-a-module", scan(&dir), dir.join("main.tf"), line(2)).saying(
            "local.name -> module.store.output.bucket -> module.store.var.name -> local.name",
        ),
    );

    // A cycle inside a called module names the module's file.
    let dir = scratch.tf("in-a-module", "module \"m\" {\n  source = \"./m\"\n}\n");
    scratch.file(
        "in-a-module/m/main.tf",
        "resource \"aws_sqs_queue\" \"q\" {\n  name = local.n\n}\n\n\
         locals {\n  n = aws_sqs_queue.q.name\n}\n",
    );
    cases.push(
        Case::new("in-a-module", scan(&dir), dir.join("m/main.tf"), line(1))
            .saying("aws_sqs_queue.q -> local.n -> aws_sqs_queue.q"),
    );
    assert_all_refused(&cases);
}

/// References that look circular but that Terraform accepts: an argument reading an output of
/// its own module call that does not depend on it, a provisioner naming its own resource, and
/// a `for` variable named like a resource type.
#[test]
fn references_that_only_look_circular_keep_scanning() {
    let scratch = Scratch::new("not-cycles");
    let own_output = scratch.tf(
        "own-output",
        "module \"m\" {\n  source = \"./m\"\n  name   = module.m.fixed\n}\n",
    );
    scratch.file(
        "own-output/m/main.tf",
        "variable \"name\" {}\n\noutput \"fixed\" {\n  value = \"records\"\n}\n\n\
         output \"given\" {\n  value = var.name\n}\n",
    );
    let provisioner = scratch.tf(
        "provisioner",
        "resource \"aws_instance\" \"web\" {\n  ami = \"ami-1\"\n\n  \
         provisioner \"local-exec\" {\n    command = \"echo ${aws_instance.web.id}\"\n  }\n}\n",
    );
    let for_variable = scratch.tf(
        "for-variable",
        "locals {\n  ids = [for aws_kms_key in [{ k = 1 }] : aws_kms_key.k]\n}\n\n\
         resource \"aws_kms_key\" \"k\" {\n  description = jsonencode(local.ids)\n}\n",
    );
    assert_all_scan(&[scan(&own_output), scan(&provisioner), scan(&for_variable)]);
}

/// A `variable` block with this default line.
fn variable_with_default(default: &str) -> String {
    format!("variable \"v\" {{\n  type    = any\n  default = {default}\n}}\n")
}

#[test]
fn variable_defaults_that_are_not_constants() {
    let scratch = Scratch::new("defaults");
    let s = &scratch;
    let written_out = "expected a value written out";
    let cases = vec![
        tf_case(
            s,
            "default-reads-itself",
            &variable_with_default("var.v"),
            line(3),
        )
        .saying("refers to var.v"),
        tf_case(
            s,
            "default-reads-another-variable",
            &format!(
                "variable \"region\" {{}}\n\n{}",
                variable_with_default("\"${var.region}-a\"")
            ),
            line(5),
        )
        .saying("refers to var.region"),
        tf_case(
            s,
            "default-reads-a-local",
            &format!(
                "locals {{\n  a = 1\n}}\n\n{}",
                variable_with_default("{ a = local.a }")
            ),
            line(7),
        )
        .saying("refers to local.a"),
        tf_case(
            s,
            "default-reads-a-resource",
            &variable_with_default("[\n    aws_kms_key.k.arn,\n  ]"),
            line(4),
        )
        .saying("refers to aws_kms_key.k.arn"),
        tf_case(
            s,
            "default-calls-a-function",
            &variable_with_default("upper(\"x\")"),
            line(3),
        )
        .saying("calls upper()"),
        tf_case(
            s,
            "default-is-a-bare-word",
            &variable_with_default("prod"),
            line(3),
        )
        .saying("refers to prod"),
    ];
    let cases: Vec<Case> = cases.into_iter().map(|c| c.saying(written_out)).collect();
    assert_all_refused(&cases);
}

/// Defaults Terraform takes: values written out, including `for` expressions over them and
/// templates without references.
#[test]
fn constant_variable_defaults_keep_scanning() {
    let scratch = Scratch::new("constant-defaults");
    let literal_map = scratch.tf(
        "literal-map",
        variable_with_default("{\n    env  = \"prod\"\n    tags = [\"a\", \"b\"]\n  }"),
    );
    let for_expression = scratch.tf(
        "for-expression",
        variable_with_default("{ for name in [\"a\", \"b\"] : name => \"${name}-x\" }"),
    );
    let arithmetic = scratch.tf(
        "arithmetic",
        variable_with_default("\"${1 + 2}\" == \"3\" ? 1 : 2"),
    );
    assert_all_scan(&[scan(&literal_map), scan(&for_expression), scan(&arithmetic)]);
}

/// A `variable` block with this type line.
fn variable_of_type(ty: &str) -> String {
    format!("variable \"v\" {{\n  description = \"a value\"\n  type        = {ty}\n}}\n")
}

#[test]
fn type_constraints_terraform_does_not_know() {
    let scratch = Scratch::new("types");
    let s = &scratch;
    let types = "expected string, number, bool, any, list(T), set(T), map(T)";
    let cases = vec![
        tf_case(s, "misspelled", &variable_of_type("strin"), line(3))
            .saying("`strin` is not a type"),
        tf_case(
            s,
            "unknown-element",
            &variable_of_type("list(foo)"),
            line(3),
        )
        .saying("`foo` is not a type"),
        tf_case(
            s,
            "map-without-element",
            &variable_of_type("map()"),
            line(3),
        )
        .saying("map takes map(T)"),
        tf_case(
            s,
            "two-element-types",
            &variable_of_type("set(string, number)"),
            line(3),
        )
        .saying("set takes set(T)"),
        tf_case(s, "bare-set", &variable_of_type("set"), line(3)).saying("set(T)"),
        tf_case(s, "quoted", &variable_of_type("\"string\""), line(3)).saying("quoted"),
        tf_case(
            s,
            "optional-outside-an-object",
            &variable_of_type("list(optional(string))"),
            line(3),
        )
        .saying("only for an attribute of an object type"),
        tf_case(
            s,
            "attribute-twice",
            &variable_of_type("object({ a = string, a = number })"),
            line(3),
        )
        .saying("`a` is given twice"),
        tf_case(
            s,
            "unknown-attribute-type",
            &variable_of_type("object({\n    name = string\n    port = nubmer\n  })"),
            line(5),
        )
        .saying("`nubmer` is not a type"),
        tf_case(
            s,
            "optional-default-reads-a-variable",
            &variable_of_type("object({ a = optional(string, var.x) })"),
            line(3),
        )
        .saying("refers to var.x"),
        tf_case(
            s,
            "not-a-constructor",
            &variable_of_type("array(string)"),
            line(3),
        )
        .saying("`array(...)` is not a type constructor"),
    ];
    let cases: Vec<Case> = cases.into_iter().map(|c| c.saying(types)).collect();
    assert_all_refused(&cases);
}

/// Types Terraform reads, including the bare `list` and `map` of Terraform 0.11.
#[test]
fn type_constraints_terraform_knows_keep_scanning() {
    let scratch = Scratch::new("known-types");
    let runs: Vec<Vec<OsString>> = [
        ("bare-list", "list"),
        ("bare-map", "map"),
        ("set-of-any", "set(any)"),
        ("empty-object", "object({})"),
        ("empty-tuple", "tuple([])"),
        (
            "optional-with-default",
            "map(object({ port = number, tls = optional(bool, true) }))",
        ),
    ]
    .into_iter()
    .map(|(name, ty)| scan(&scratch.tf(name, variable_of_type(ty))))
    .collect();
    assert_all_scan(&runs);
}

/// The module of the module-call tests: a variable of each kind, and an output.
const CALLED_MODULE: &str = "variable \"retention_days\" {\n  type = number\n}\n\n\
    variable \"names\" {\n  type    = list(string)\n  default = []\n}\n\n\
    variable \"key\" {\n  type    = object({ arn = string, rotate = optional(bool) })\n  \
    default = null\n}\n\n\
    output \"days\" {\n  value = var.retention_days\n}\n";

/// A root `main.tf` calling `./store` (which holds [`CALLED_MODULE`]) with these arguments.
fn call_with(scratch: &Scratch, name: &'static str, arguments: &str) -> PathBuf {
    let dir = scratch.tf(
        name,
        format!("module \"store\" {{\n  source = \"./store\"\n{arguments}}}\n"),
    );
    scratch.file(&format!("{name}/store/main.tf"), CALLED_MODULE);
    dir
}

#[test]
fn module_arguments_terraform_refuses() {
    let scratch = Scratch::new("module-arguments");
    let s = &scratch;
    let mut cases = Vec::new();
    let mut case = |name: &'static str, arguments: &str, place: Place, says: &'static str| {
        let dir = call_with(s, name, arguments);
        cases.push(Case::new(name, scan(&dir), dir.join("main.tf"), place).saying(says));
    };
    case(
        "undeclared-argument",
        "  retention_days = 7\n  retention       = 7\n",
        line(4),
        "sets `retention`, which its module (./store) does not declare",
    );
    case(
        "text-for-a-number",
        "  retention_days = \"a week\"\n",
        line(3),
        "variable \"retention_days\" does not fit the variable's type: expected a number",
    );
    case(
        "list-of-lists-for-a-list-of-strings",
        "  retention_days = 7\n  names          = [\"a\", [\"b\"]]\n",
        line(4),
        "expected a string at [1]",
    );
    case(
        "word-for-a-list",
        "  retention_days = 7\n  names          = \"a\"\n",
        line(4),
        "expected a list or set",
    );
    case(
        "object-without-a-required-attribute",
        "  retention_days = 7\n  key            = { rotate = true }\n",
        line(4),
        "expected an object with attribute \"arn\"",
    );
    case(
        "required-variable-not-set",
        "  names = [\"a\"]\n",
        line(1),
        "does not set `retention_days`, which its module (./store) requires",
    );
    case(
        "one-instance-does-not-fit",
        "  for_each       = { short = \"1\", long = \"many\" }\n  \
         retention_days = each.value\n",
        line(4),
        "module.store[\"long\"] gives variable \"retention_days\"",
    );

    let dir = scratch.tf(
        "module-without-variables",
        "module \"empty\" {\n  source = \"./empty\"\n  name   = \"x\"\n}\n",
    );
    scratch.file(
        "module-without-variables/empty/main.tf",
        "locals {\n  a = 1\n}\n",
    );
    cases.push(
        Case::new(
            "module-without-variables",
            scan(&dir),
            dir.join("main.tf"),
            line(3),
        )
        .saying("as the module declares no variables"),
    );
    assert_all_refused(&cases);
}

/// Calls Terraform accepts: meta-arguments the module does not declare as variables, values
/// Terraform converts (a numeric string for a number, "1" for a bool, a set for a list, an
/// object with more attributes than the type), and a resource's object for an object type
/// whose attributes the resource computes.
#[test]
fn module_arguments_terraform_accepts_keep_scanning() {
    let scratch = Scratch::new("module-arguments-accepted");
    let meta = call_with(
        &scratch,
        "meta-arguments",
        "  count          = 1\n  providers      = { aws = aws }\n  \
         depends_on     = [aws_kms_key.k]\n  retention_days = 7\n",
    );
    std::fs::write(
        meta.join("key.tf"),
        "provider \"aws\" {\n  region = \"us-east-1\"\n}\n\nresource \"aws_kms_key\" \"k\" {}\n",
    )
    .unwrap();
    let converted = call_with(
        &scratch,
        "converted",
        "  retention_days = \"7\"\n  names          = toset([\"a\"])\n  \
         key            = { arn = \"arn:aws:kms:x\", rotate = \"1\", extra = 1 }\n",
    );
    let computed = call_with(
        &scratch,
        "computed",
        "  retention_days = 7\n  key            = aws_kms_key.k\n",
    );
    std::fs::write(
        computed.join("key.tf"),
        "resource \"aws_kms_key\" \"k\" {\n  enable_key_rotation = true\n}\n",
    )
    .unwrap();
    assert_all_scan(&[scan(&meta), scan(&converted), scan(&computed)]);
}

#[test]
fn variable_values_of_the_wrong_kind() {
    let scratch = Scratch::new("variables");
    let dir = scratch.tf(
        "config",
        "variable \"n\" {\n  type = number\n}\n\nresource \"aws_s3_bucket\" \"b\" {\n  count = var.n\n}\n",
    );
    let tfvars = |name: &str, text: &str| scratch.file(&format!("config/{name}"), text);
    let mut cases = Vec::new();

    let file = tfvars("string.tfvars", "# a comment\nn = \"abc\"\n");
    cases.push(
        Case::new(
            "tfvars-string-for-number",
            scan_with(&dir, &["--var-file", file.to_str().unwrap()]),
            &file,
            line(2),
        )
        .saying("expected a number"),
    );
    let file = tfvars("not-hcl.tfvars", "n: 3\n");
    cases.push(Case::new(
        "tfvars-not-hcl",
        scan_with(&dir, &["--var-file", file.to_str().unwrap()]),
        &file,
        at(1, 2),
    ));
    let file = tfvars("array.tfvars.json", "\n  [1, 2]\n");
    cases.push(
        Case::new(
            "tfvars-json-array",
            scan_with(&dir, &["--var-file", file.to_str().unwrap()]),
            &file,
            at(2, 3),
        )
        .saying("expected a JSON object"),
    );
    let file = tfvars("truncated.tfvars.json", "{\"n\": ");
    cases.push(
        Case::new(
            "tfvars-json-truncated",
            scan_with(&dir, &["--var-file", file.to_str().unwrap()]),
            &file,
            at(1, 6),
        )
        .saying("expected a JSON value"),
    );
    let file = tfvars("object.tfvars.json", "{\"n\": {\"a\": 1}}");
    cases.push(
        Case::new(
            "tfvars-json-object-for-number",
            scan_with(&dir, &["--var-file", file.to_str().unwrap()]),
            &file,
            line(1),
        )
        .saying("expected a number"),
    );
    let missing = scratch.0.join("config/missing.tfvars");
    cases.push(Case::new(
        "var-file-missing",
        scan_with(&dir, &["--var-file", missing.to_str().unwrap()]),
        &missing,
        Place::Whole,
    ));
    // A --var value lives on the command line: the flag is its place.
    cases.push(
        Case::new(
            "var-wrong-type",
            scan_with(&dir, &["--var", "n=abc"]),
            "--var",
            Place::Whole,
        )
        .saying("variable \"n\""),
    );
    cases.push(
        Case::new(
            "var-without-value",
            scan_with(&dir, &["--var", "n"]),
            "--var \"n\"",
            Place::Whole,
        )
        .saying("NAME=VALUE"),
    );
    cases.push(
        Case::new(
            "unknown-format",
            scan_with(&dir, &["--format", "yaml"]),
            "--format",
            Place::Whole,
        )
        .saying("'yaml'"),
    );
    assert_all_refused(&cases);
}

/// A configuration with a variable of any type, `tags`, and one bucket using it.
const TAGGED_BUCKET: &str = "variable \"tags\" {\n  type = any\n}\n\n\
    resource \"aws_s3_bucket\" \"b\" {\n  tags = var.tags\n}\n";

#[test]
fn variable_files_that_are_not_constants() {
    let scratch = Scratch::new("variable-files");
    let written_out = "expected a value written out";
    let mut cases = Vec::new();

    let dir = scratch.tf("var-file-call", TAGGED_BUCKET);
    let file = scratch.file(
        "var-file-call/prod.tfvars",
        "tags = {\n  env   = \"prod\"\n  owner = lower(\"Records\")\n}\n",
    );
    cases.push(
        Case::new(
            "var-file-calls-a-function",
            scan_with(&dir, &["--var-file", file.to_str().unwrap()]),
            &file,
            line(3),
        )
        .saying("the value for variable \"tags\" calls lower()"),
    );

    let dir = scratch.tf("automatic-reference", TAGGED_BUCKET);
    scratch.file(
        "automatic-reference/terraform.tfvars",
        "tags = var.defaults\n",
    );
    cases.push(
        Case::new(
            "terraform-tfvars-refers-to-a-variable",
            scan(&dir),
            dir.join("terraform.tfvars"),
            line(1),
        )
        .saying("refers to var.defaults"),
    );

    let dir = scratch.tf("auto-bare-word", TAGGED_BUCKET);
    scratch.file(
        "auto-bare-word/a.auto.tfvars",
        "# the environment\ntags = { env = prod }\n",
    );
    cases.push(
        Case::new(
            "auto-tfvars-bare-word",
            scan(&dir),
            dir.join("a.auto.tfvars"),
            line(2),
        )
        .saying("refers to prod"),
    );
    let cases: Vec<Case> = cases.into_iter().map(|c| c.saying(written_out)).collect();
    assert_all_refused(&cases);
}

/// Variable files Terraform reads: values written out, `for` expressions over them and
/// templates without references.
#[test]
fn constant_variable_files_keep_scanning() {
    let scratch = Scratch::new("constant-variable-files");
    let dir = scratch.tf("config", TAGGED_BUCKET);
    let file = scratch.file(
        "config/prod.tfvars",
        "tags = {\n  for name in [\"env\", \"team\"] : name => \"${name}-${1 + 1}\"\n}\n",
    );
    scratch.file("config/terraform.tfvars", "tags = { env = \"prod\" }\n");
    assert_all_scan(&[
        scan(&dir),
        scan_with(&dir, &["--var-file", file.to_str().unwrap()]),
    ]);
}

/// Variables of each kind a `--var` value is read for.
const VARIABLES_OF_EACH_KIND: &str = "variable \"tags\" {\n  type = map(string)\n}\n\n\
    variable \"names\" {\n  type = list(string)\n}\n\n\
    variable \"settings\" {\n  type = any\n}\n\n\
    variable \"note\" {}\n\n\
    variable \"env\" {\n  type = string\n}\n\n\
    variable \"port\" {\n  type = number\n}\n\n\
    resource \"aws_s3_bucket\" \"b\" {\n  tags = var.tags\n}\n";

#[test]
fn cli_values_terraform_refuses() {
    let scratch = Scratch::new("cli-values");
    let dir = scratch.tf("config", VARIABLES_OF_EACH_KIND);
    let refused = |name: &'static str, var: &str, says: &'static str| {
        Case::new(
            name,
            scan_with(&dir, &["--var", var]),
            "--var",
            Place::Whole,
        )
        .saying(says)
        .saying("expected a value written out")
    };
    let cases = vec![
        refused(
            "word-for-a-map",
            "tags=prod",
            "the value for variable \"tags\" refers to prod",
        ),
        refused("unquoted-list-element", "names=[a]", "refers to a"),
        refused("word-for-any", "settings=prod", "refers to prod"),
        refused("call-for-any", "settings=upper(\"x\")", "calls upper()"),
        refused(
            "not-an-expression",
            "names=[\"a\"",
            "is not an expression Terraform can read",
        ),
        // A number is read from the text itself, not from an expression.
        Case::new(
            "sum-for-a-number",
            scan_with(&dir, &["--var", "port=1+1"]),
            "--var",
            Place::Whole,
        )
        .saying("variable \"port\" does not fit its type: expected a number"),
    ];
    assert_all_refused(&cases);
}

/// Values Terraform takes: the text itself for a string, number or untyped variable, and
/// constant expressions for the others.
#[test]
fn cli_values_terraform_accepts_keep_scanning() {
    let scratch = Scratch::new("cli-values-accepted");
    let dir = scratch.tf("config", VARIABLES_OF_EACH_KIND);
    let runs: Vec<Vec<OsString>> = [
        "env=prod",
        "note=[a]",
        "port=8080",
        "names=[\"a\", \"b\"]",
        "tags={ env = \"prod\" }",
        "tags=null",
        "settings=[for n in [1, 2] : n * 2]",
    ]
    .into_iter()
    .map(|var| scan_with(&dir, &["--var", var]))
    .collect();
    assert_all_scan(&runs);
}

#[test]
fn a_file_whose_name_is_not_utf8_is_read_like_any_other() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;

    let scratch = Scratch::new("not-utf8-name");
    let dir = scratch.tf("config", "locals {\n  a = 1\n}\n");
    std::fs::write(
        dir.join(OsStr::from_bytes(b"broken\xff.tf")),
        "output \"o\" {\n  value = 1 +\n}\n",
    )
    .unwrap();
    assert_all_refused(&[Case::new(
        "syntax-error-in-a-file-named-with-bad-bytes",
        scan(&dir),
        dir.join("broken\u{fffd}.tf"),
        on_line(2),
    )]);
}

/// A plan with one resource change; `change` is the text of its `change` object.
fn plan_with_change(change: &str) -> String {
    format!(
        "{{\n  \"format_version\": \"1.2\",\n  \"planned_values\": {{\"root_module\": {{}}}},\n  \
         \"resource_changes\": [\n    {{\n      \"address\": \"aws_s3_bucket.b\",\n      \
         \"mode\": \"managed\",\n      \"type\": \"aws_s3_bucket\",\n      \"name\": \"b\",\n      \
         \"change\": {change}\n    }}\n  ]\n}}\n"
    )
}

/// A plan whose root module holds this text as its one resource.
fn plan_with_resource(resource: &str) -> String {
    format!(
        "{{\"format_version\": \"1.2\", \"planned_values\": {{\"root_module\": {{\"resources\": \
         [{resource}]}}}}}}"
    )
}

#[test]
fn json_that_is_not_a_plan() {
    let scratch = Scratch::new("plans");
    let fixture = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/cases/plan-unknown-kms-key/plan.json"),
    )
    .unwrap();
    let resource = "\"address\": \"aws_s3_bucket.b\", \"mode\": \"managed\", \"type\": \
                    \"aws_s3_bucket\", \"name\": \"b\"";
    let mut cases = Vec::new();
    let mut plan = |name: &'static str, text: &str, place: Place, says: &'static str| {
        let path = scratch.file(&format!("{name}.json"), text);
        cases.push(Case::new(name, scan(&path), &path, place).saying(says));
    };

    // Broken JSON, in several places.
    let cut = &fixture[..fixture.len() / 2];
    plan(
        "truncated-halfway",
        cut,
        on_line(cut.lines().count() as u32),
        "ends early",
    );
    plan(
        "truncated-in-a-string",
        "{\"format_version\": \"1.",
        at(1, 22),
        "closing `\"`",
    );
    plan("empty-file", "", at(1, 1), "ends early");
    plan(
        "terraform-text-output",
        "Terraform will perform the following actions:\n",
        at(1, 1),
        "not valid JSON",
    );
    plan(
        "missing-comma",
        "{\"format_version\": \"1.2\"\n \"planned_values\": {}}",
        at(2, 2),
        "not valid JSON",
    );
    plan(
        "trailing-garbage",
        &format!("{}\n}}", fixture.trim_end()),
        Place::SomeLine,
        "trailing characters",
    );
    plan(
        "control-character",
        "{\"format_version\": \"1.2\u{1}\"}",
        at(1, 24),
        "control character",
    );
    // In a key the reader matches against the fields it knows, as well as in a value.
    plan(
        "control-character-in-a-key",
        "{\"format_version\": \"1.2\", \"planned_\u{1}values\": {}}",
        at(1, 36),
        "control character",
    );
    plan(
        "nan-is-not-json",
        &plan_with_resource(&format!("{{{resource}, \"values\": {{\"size\": NaN}}}}")),
        Place::SomeLine,
        "not valid JSON",
    );

    // JSON, but not a plan.
    plan("top-level-array", "[1, 2, 3]", at(1, 1), "a Terraform plan");
    plan(
        "object-without-format-version",
        "{\n  \"name\": \"web\"\n}\n",
        at(1, 1),
        "planned_values",
    );
    plan("top-level-null", "null", Place::SomeLine, "a JSON object");
    plan(
        "state-file",
        "{\"format_version\": \"1.0\", \"terraform_version\": \"1.11.4\", \"values\": {\"root_module\": {}}}",
        at(1, 1),
        "state, not a plan",
    );
    plan(
        "tfvars-json-named-as-plan",
        "{\"region\": \"us-east-1\", \"replicas\": 3}",
        at(1, 1),
        "not a Terraform plan",
    );

    // Known fields of the wrong type.
    plan(
        "resource-changes-not-a-list",
        "{\n  \"format_version\": \"1.2\",\n  \"planned_values\": {},\n  \"resource_changes\": {}\n}\n",
        Place::Field("resource_changes"),
        "expected a list",
    );
    let mut field = |name: &'static str, text: &str, path: &'static str, says: &'static str| {
        let file = scratch.file(&format!("{name}.json"), text);
        cases.push(Case::new(name, scan(&file), &file, Place::Field(path)).saying(says));
    };
    field(
        "address-a-number",
        &plan_with_resource(
            "{\"address\": 5, \"mode\": \"managed\", \"type\": \"t\", \"name\": \"n\"}",
        ),
        "planned_values.root_module.resources[0].address",
        "expected a string",
    );
    field(
        "actions-a-string",
        &plan_with_change("{\"actions\": \"create\", \"after\": {}}"),
        "resource_changes[0].change.actions",
        "expected a sequence",
    );
    field(
        "after-unknown-a-string",
        &plan_with_change("{\"actions\": [\"create\"], \"after\": {}, \"after_unknown\": \"yes\"}"),
        "resource_changes[0].change.after_unknown",
        "markers",
    );
    field(
        "after-unknown-leaf-a-number",
        &plan_with_change(
            "{\"actions\": [\"create\"], \"after\": {}, \"after_unknown\": {\"id\": 1}}",
        ),
        "resource_changes[0].change.after_unknown.id",
        "markers",
    );
    field(
        "after-a-list",
        &plan_with_change("{\"actions\": [\"create\"], \"after\": [1, 2]}"),
        "resource_changes[0].change.after",
        "expected an object of attribute values",
    );
    field(
        "values-a-string",
        &plan_with_resource(&format!("{{{resource}, \"values\": \"oops\"}}")),
        "planned_values.root_module.resources[0].values",
        "expected an object of attribute values",
    );
    field(
        "sensitive-values-a-string",
        &plan_with_resource(&format!(
            "{{{resource}, \"values\": {{}}, \"sensitive_values\": \"all\"}}"
        )),
        "planned_values.root_module.resources[0].sensitive_values",
        "markers",
    );
    field(
        "index-an-object",
        &plan_with_resource(&format!(
            "{{{resource}, \"index\": {{}}, \"values\": {{}}}}"
        )),
        "planned_values.root_module.resources[0].index",
        "expected an instance index",
    );
    field(
        "child-modules-an-object",
        "{\"format_version\": \"1.2\", \"planned_values\": {\"root_module\": {\"child_modules\": {}}}}",
        "planned_values.root_module.child_modules",
        "expected a list of child modules",
    );
    field(
        "child-module-a-string",
        "{\"format_version\": \"1.2\", \"planned_values\": {\"root_module\": {\"child_modules\": [\"module.a\"]}}}",
        "planned_values.root_module.child_modules[0]",
        "expected a module object",
    );
    field(
        "resources-an-object",
        "{\"format_version\": \"1.2\", \"planned_values\": {\"root_module\": {\"resources\": {}}}}",
        "planned_values.root_module.resources",
        "expected a list of resources",
    );
    field(
        "format-version-a-number",
        "{\"format_version\": 1.2, \"planned_values\": {}}",
        "format_version",
        "expected a string",
    );
    field(
        "module-calls-a-list",
        "{\"format_version\": \"1.2\", \"planned_values\": {}, \"configuration\": {\"root_module\": {\"module_calls\": []}}}",
        "configuration.root_module.module_calls",
        "expected a map",
    );
    assert_all_refused(&cases);
}

/// Inputs sized to exhaust a careless loader: deep nesting, multi-megabyte strings, thousands
/// of files.
#[test]
fn inputs_of_extreme_size() {
    let scratch = Scratch::new("extreme");
    let mut cases = Vec::new();
    let depth = 100_000;

    let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let path = scratch.file(
        "deep-value.json",
        plan_with_resource(&format!(
            "{{\"address\": \"a.b\", \"mode\": \"managed\", \"type\": \"a\", \"name\": \"b\", \
             \"values\": {{\"rules\": {deep}}}}}"
        )),
    );
    cases.push(
        Case::new(
            "json-value-nested-100000-deep",
            scan(&path),
            &path,
            Place::SomeLine,
        )
        .saying("nested deeper"),
    );
    let modules = format!(
        "{{\"format_version\": \"1.2\", \"planned_values\": {{\"root_module\": {}{}}}}}",
        "{\"child_modules\": [".repeat(depth),
        "]}".repeat(depth)
    );
    let path = scratch.file("deep-modules.json", &modules);
    cases.push(
        Case::new(
            "plan-modules-nested-100000-deep",
            scan(&path),
            &path,
            Place::SomeLine,
        )
        .saying("nested deeper"),
    );

    // Huge but valid strings are not errors, so each is followed by an error, or unterminated.
    let eight_mib = "x".repeat(8 << 20);
    let path = scratch.file(
        "huge-string-then-wrong-type.json",
        plan_with_resource(&format!(
            "{{\"address\": \"a.b\", \"mode\": \"managed\", \"type\": \"a\", \"name\": \"b\", \
             \"values\": {{\"blob\": \"{eight_mib}\"}}}}, {{\"address\": 7}}"
        )),
    );
    cases.push(
        Case::new(
            "json-8-mib-string-then-wrong-type",
            scan(&path),
            &path,
            Place::Field("planned_values.root_module.resources[1].address"),
        )
        .saying("expected a string"),
    );
    let path = scratch.file(
        "huge-unterminated-string.json",
        format!("{{\"format_version\": \"1.2\", \"planned_values\": {{\"x\": \"{eight_mib}"),
    );
    cases.push(
        Case::new(
            "json-8-mib-unterminated-string",
            scan(&path),
            &path,
            Place::SomeLine,
        )
        .saying("ends early"),
    );

    // The HCL parser reads about a megabyte a second in a debug build, so its strings are
    // two megabytes: still far beyond any real attribute.
    let two_mib = "x".repeat(2 << 20);
    let dir = scratch.tf(
        "huge-hcl-string",
        format!("locals {{\n  blob = \"{two_mib}\"\n}}\n\nlocals {{\n  broken = = 1\n}}\n"),
    );
    cases.push(Case::new(
        "hcl-2-mib-string-then-error",
        scan(&dir),
        dir.join("main.tf"),
        at(6, 12),
    ));
    let dir = scratch.tf(
        "huge-hcl-unterminated",
        format!("locals {{\n  blob = \"{two_mib}\n}}\n"),
    );
    cases.push(Case::new(
        "hcl-2-mib-unterminated-string",
        scan(&dir),
        dir.join("main.tf"),
        on_line(2),
    ));

    let nested = format!(
        "locals {{\n  x = {}{}\n}}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let dir = scratch.tf("deep-hcl", nested);
    cases.push(
        Case::new(
            "hcl-nested-100000-deep",
            scan(&dir),
            dir.join("main.tf"),
            on_line(2),
        )
        .saying("nesting"),
    );
    let dir = scratch.tf(
        "deep-blocks",
        format!("{}{}", "a {\n".repeat(depth), "}\n".repeat(depth)),
    );
    cases.push(
        Case::new(
            "hcl-blocks-nested-100000-deep",
            scan(&dir),
            dir.join("main.tf"),
            on_line(65),
        )
        .saying("nesting"),
    );
    let dir = scratch.tf(
        "long-sum",
        format!("locals {{\n  x = {}1\n}}\n", "1 + ".repeat(depth)),
    );
    cases.push(Case::new(
        "hcl-100000-chained-operators",
        scan(&dir),
        dir.join("main.tf"),
        on_line(2),
    ));

    let dir = scratch.0.join("many-files");
    std::fs::create_dir_all(&dir).unwrap();
    for i in 0..10_000 {
        let text = if i == 7_777 {
            format!("locals {{\n  v{i} = [1, 2\n}}\n")
        } else {
            format!("locals {{\n  v{i} = {i}\n}}\n")
        };
        std::fs::write(dir.join(format!("f{i:05}.tf")), text).unwrap();
    }
    cases.push(
        Case::new(
            "10000-files-one-broken",
            scan(&dir),
            dir.join("f07777.tf"),
            at(3, 1),
        )
        .saying("expected `]`"),
    );

    assert_all_refused(&cases);
}

/// A malformed file the parser takes exponential time over (deeply nested, unclosed brackets
/// mixed with runs of `-`; see fuzz/README.md): refused once the parse budget runs out
/// instead of holding the scan for as long as the parser takes.
#[test]
fn a_file_the_parser_backtracks_over_is_refused() {
    let scratch = Scratch::new("backtracking");
    let known = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/known/hcl_loader/parser-backtracking.tf");
    let text = std::fs::read_to_string(known).unwrap();

    // The known file nests 20 deep and takes seconds; eight more levels of the same take about
    // sixteen times as long, past the parse budget even in a release build.
    let opens: Vec<usize> = text.match_indices('[').map(|(i, _)| i).collect();
    let (from, to) = (opens[5], opens[13]);
    let deeper = format!("{}{}", &text[..to], &text[from..]);
    let dir = scratch.tf("deeper", deeper);

    assert_all_refused(&[Case::new(
        "hcl-parser-backtracking",
        scan(&dir),
        dir.join("main.tf"),
        // The parser never finished, so it never said where it was.
        Place::Whole,
    )
    .saying("did not finish")]);
}

/// A configuration nested deeper than discovery looks is refused, not left out: leaving it out
/// in silence would pass the scan of a tree it belongs to.
#[test]
fn configurations_nested_past_the_discovery_depth_are_refused() {
    let scratch = Scratch::new("deep-dirs");
    scratch.tf("tree/shallow", "locals {\n  a = 1\n}\n");
    let deep: PathBuf = std::iter::repeat_n("d", 20).collect();
    scratch.tf(
        &format!("tree/{}", deep.display()),
        "resource \"aws_ebs_volume\" \"v\" {\n  encrypted = false\n}\n",
    );
    let tree = scratch.0.join("tree");
    let limit: PathBuf = std::iter::repeat_n("d", 16).collect();

    assert_all_refused(&[Case::new(
        "configurations-deeper-than-discovery",
        scan(&tree),
        tree.join(limit),
        // A directory: there is no line to point at.
        Place::Whole,
    )
    .saying("nest more than 16 levels")]);
}

/// Files named by flags or found beside the configuration are read only when they are regular
/// files: a named pipe would wait forever and a device would never end.
#[test]
fn endless_files_named_by_flags_are_refused() {
    let scratch = Scratch::new("endless-flags");
    let dir = scratch.tf("ok", "locals {\n  a = 1\n}\n");
    let fifo = scratch.0.join("pipe");
    make_fifo(&fifo);

    let mut cases = Vec::new();
    for (name, flag) in [
        ("var-file-fifo", "--var-file"),
        ("config-fifo", "--config"),
        ("baseline-fifo", "--baseline"),
        ("policy-fifo", "--policy"),
    ] {
        let args = scan_with(&dir, &[flag, fifo.to_str().unwrap()]);
        cases.push(Case::new(name, args, &fifo, Place::Whole).saying("not a regular file"));
    }
    assert_all_refused(&cases);
}

/// A module manifest that cannot be read is noted, not passed over in silence.
#[test]
fn an_endless_module_manifest_is_noted() {
    let scratch = Scratch::new("endless-manifest");
    let dir = scratch.tf("root", "locals {\n  a = 1\n}\n");
    let modules = dir.join(".terraform/modules");
    std::fs::create_dir_all(&modules).unwrap();
    make_fifo(&modules.join("modules.json"));

    let report = scratch.0.join("report.json");
    let args = scan_with(
        &dir,
        &["--format", "json", "--output", report.to_str().unwrap()],
    );
    let outcome = run_hipaa(&args);
    assert_eq!(
        outcome.status.and_then(|s| s.code()),
        Some(0),
        "{}",
        outcome.stderr
    );
    let written = std::fs::read_to_string(&report).unwrap();
    assert!(
        written.contains("not a regular file")
            && written.contains("downloaded modules were not scanned"),
        "{written}"
    );
}

/// Lines that each double a string, ending in `for` expressions over the largest.
fn doubling_strings(last: &str) -> String {
    // 1,000 bytes doubled 14 times: 16,384,000 bytes, just under the longest string allowed.
    let mut text = format!("locals {{\n  s0 = \"{}\"\n", "x".repeat(1000));
    for i in 1..=14 {
        text.push_str(&format!(
            "  s{i} = \"${{local.s{}}}${{local.s{}}}\"\n",
            i - 1,
            i - 1
        ));
    }
    text.push_str(last);
    text.push_str("}\n");
    text
}

/// Configurations whose evaluation would take gigabytes or minutes are refused at the
/// declaration that goes past the load's limits, not aborted by the system or left to run.
#[test]
fn evaluation_past_the_load_limits_is_refused() {
    let scratch = Scratch::new("evaluation-limits");
    let s = &scratch;
    let mut cases = Vec::new();

    // Each string is allowed; six hundred copies of the largest are not.
    let text = doubling_strings("  big = [for i in range(600) : \"${local.s14}${i}\"]\n");
    cases.push(tf_case(s, "strings-doubling-then-copied", &text, line(17)).saying("512 MiB"));

    // Three nested `dynamic` blocks of 300 each: 27 million blocks.
    let attributes: String = (0..50).map(|i| format!("a{i} = {i}\n")).collect();
    let text = format!(
        "resource \"aws_s3_bucket\" \"b\" {{\n  bucket = \"x\"\n{}}}\n",
        ["a", "b", "c"]
            .iter()
            .rev()
            .fold(attributes, |inner, name| format!(
                "dynamic \"{name}\" {{\nfor_each = range(300)\ncontent {{\n{inner}}}\n}}\n"
            ))
    );
    cases.push(
        tf_case(s, "dynamic-blocks-nested", &text, line(1)).saying("the configuration builds"),
    );

    // Sixty lines of `nN = [local.nN-1, local.nN-1]`: 2^60 elements, shared, until walked.
    let mut text = "locals {\n  n0 = [\"a\"]\n".to_string();
    for i in 1..=60 {
        text.push_str(&format!("  n{i} = [local.n{}, local.n{}]\n", i - 1, i - 1));
    }
    text.push_str("}\nresource \"aws_s3_bucket\" \"b\" {\n  bucket = jsonencode(local.n60)\n}\n");
    cases.push(tf_case(s, "lists-doubling", &text, line(23)).saying("single value"));

    // A function given the largest string over and over: cheap to build, costly to read.
    let text = doubling_strings("  h = [for i in range(300) : coalesce(local.s14)]\n");
    cases.push(tf_case(s, "functions-over-huge-strings", &text, line(17)).saying("4 GiB"));

    // A hundred million steps that build nothing: the filter drops every element.
    let text = "locals {\n  hundred = range(100)\n  million = range(1000000)\n  spin = [for i in \
                local.million : i if length([for j in local.hundred : j if j < 0]) > 0]\n}\n";
    cases.push(tf_case(s, "steps-building-nothing", text, line(4)).saying("evaluation steps"));

    // Strings doubled past the longest allowed, by templates or by functions.
    let text = doubling_strings("  s15 = \"${local.s14}${local.s14}\"\n");
    cases.push(tf_case(s, "template-past-16-mib", &text, line(17)).saying("16 MiB"));
    let text = "locals {\n  wide = format(\"%999999999s\", \"x\")\n}\n";
    cases.push(tf_case(s, "format-width-past-16-mib", text, line(2)).saying("16 MiB"));
    let text = "locals {\n  many = range(100000000)\n}\n";
    cases.push(tf_case(s, "range-past-the-elements", text, line(2)).saying("1,048,576"));

    // A set of 300,000 names: too many instances, refused at once rather than after the
    // minutes that comparing every pair of names took.
    let text = "resource \"aws_ebs_volume\" \"v\" {\n  for_each = toset([for i in range(300000) \
                : tostring(i)])\n}\n";
    cases.push(tf_case(s, "toset-of-300000-names", text, line(2)).saying("100000"));

    // Three blocks of 70,000 instances each.
    let buckets: String = (0..3)
        .map(|i| format!("resource \"aws_s3_bucket\" \"b{i}\" {{\n  count = 70000\n}}\n"))
        .collect();
    cases.push(tf_case(s, "instances-past-the-total", &buckets, line(7)).saying("200,000"));

    assert_all_refused(&cases);
}

/// A plan file is read through a memory map; one that another program truncates meanwhile
/// must end the scan with the scanner's error, not a bus error.
#[test]
fn a_plan_truncated_while_it_is_read_is_refused() {
    let scratch = Scratch::new("truncated-meanwhile");
    // A large part the loader skips, before the plan proper: reading it takes long enough for
    // the truncation below to land while the file is still being read.
    let filler = "x".repeat(256 << 20);
    let path = scratch.file(
        "plan.json",
        format!(
            "{{\"format_version\": \"1.2\", \"variables\": {{\"v\": {{\"value\": \"{filler}\"}}}}, \
             \"planned_values\": {{\"root_module\": {{}}}}}}"
        ),
    );
    drop(filler);

    let child = Command::new(env!("CARGO_BIN_EXE_hipaa"))
        .args(["scan".as_ref(), path.as_os_str()])
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the hipaa binary starts");

    // Truncate as soon as the file is mapped, which the process's memory map shows.
    let maps = format!("/proc/{}/maps", child.id());
    let name = path.to_str().unwrap();
    let started = Instant::now();
    while !std::fs::read_to_string(&maps).is_ok_and(|text| text.contains(name)) {
        assert!(started.elapsed() < KILL_AFTER, "the plan was never mapped");
        std::thread::sleep(Duration::from_millis(1));
    }
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(0)
        .unwrap();

    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(name) && stderr.contains("changed while it was being read"),
        "{stderr}"
    );
}

/// The plan of the shared case `plan-unknown-kms-key`.
fn fixture_plan() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/cases/plan-unknown-kms-key");
    std::fs::read_to_string(path.join("plan.json")).unwrap()
}

/// A configuration with one finding (an unencrypted volume) and one pass.
const SOURCE_WITH_A_FINDING: &str = "resource \"aws_ebs_volume\" \"old\" {\n  \
     availability_zone = \"us-east-1a\"\n  size = 10\n  encrypted = false\n}\n\n\
     resource \"aws_ebs_volume\" \"new\" {\n  availability_zone = \"us-east-1a\"\n  size = 10\n  \
     encrypted = true\n}\n";

/// The JSON report of a scan that must succeed (exit code 0 or 1), written to a file of the
/// scratch directory named after `name`.
fn report_of(scratch: &Scratch, name: &str, args: Vec<OsString>, feed: &Feed) -> serde_json::Value {
    let output = scratch.0.join(format!("{name}.report.json"));
    let mut args = args;
    args.extend([
        "--format".into(),
        "json".into(),
        "--output".into(),
        output.clone().into(),
    ]);
    let outcome = run_hipaa_fed(&args, feed);
    let code = outcome.status.and_then(|status| status.code());
    assert!(
        matches!(code, Some(0 | 1)) && !outcome.stderr.contains("error"),
        "{name}: exit {code:?}: {}",
        outcome.stderr
    );
    serde_json::from_str(&std::fs::read_to_string(&output).unwrap()).unwrap()
}

/// What a scan concluded, apart from where its input came from: the findings and undetermined
/// checks by rule and resource, the resources counted and every rule's tally.
fn verdicts(report: &serde_json::Value) -> serde_json::Value {
    let by_rule = |list: &serde_json::Value| -> Vec<(String, String)> {
        let mut pairs: Vec<(String, String)> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|entry| (entry["rule_id"].to_string(), entry["resource"].to_string()))
            .collect();
        pairs.sort();
        pairs
    };
    serde_json::json!({
        "findings": by_rule(&report["findings"]),
        "undetermined": by_rule(&report["undetermined"]),
        "resources": report["summary"]["resources"],
        "rules": report["summary"]["rules"],
    })
}

/// The notes of a report, as text.
fn notes(report: &serde_json::Value) -> Vec<String> {
    report["summary"]["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|note| note.as_str().unwrap().to_string())
        .collect()
}

/// UTF-16 text as Windows writes it: little- or big-endian, with or without a byte order mark.
fn utf16(text: &str, little_endian: bool, with_bom: bool) -> Vec<u8> {
    let units = with_bom
        .then_some(0xFEFF)
        .into_iter()
        .chain(text.encode_utf16());
    if little_endian {
        units.flat_map(u16::to_le_bytes).collect()
    } else {
        units.flat_map(u16::to_be_bytes).collect()
    }
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// PowerShell 7 and Windows editors start UTF-8 with a byte order mark: such a plan or source
/// file scans as it would without. Windows PowerShell 5 writes UTF-16 with `>`: refused, saying
/// so and how to write UTF-8 instead.
#[test]
fn plans_and_sources_saved_by_windows_tools() {
    let scratch = Scratch::new("encodings");
    let plan = fixture_plan();

    let plain = scratch.file("plain.json", &plan);
    let marked = scratch.file("marked.json", [UTF8_BOM, plan.as_bytes()].concat());
    let expected = verdicts(&report_of(&scratch, "plain", scan(&plain), &Feed::Nothing));
    assert_eq!(expected["findings"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        verdicts(&report_of(
            &scratch,
            "marked",
            scan(&marked),
            &Feed::Nothing
        )),
        expected
    );

    let plain = scratch.tf("tf-plain", SOURCE_WITH_A_FINDING);
    let marked = scratch.tf(
        "tf-marked",
        [UTF8_BOM, SOURCE_WITH_A_FINDING.as_bytes()].concat(),
    );
    let expected = verdicts(&report_of(
        &scratch,
        "tf-plain",
        scan(&plain),
        &Feed::Nothing,
    ));
    assert_eq!(expected["resources"], 2);
    assert_eq!(
        verdicts(&report_of(
            &scratch,
            "tf-marked",
            scan(&marked),
            &Feed::Nothing
        )),
        expected
    );

    let mut cases = Vec::new();
    for (name, little_endian, with_bom) in [
        ("plan-utf16le-bom", true, true),
        ("plan-utf16le", true, false),
        ("plan-utf16be-bom", false, true),
        ("plan-utf16be", false, false),
    ] {
        let path = scratch.file(
            &format!("{name}.json"),
            utf16(&plan, little_endian, with_bom),
        );
        cases.push(
            Case::new(name, scan(&path), &path, at(1, 1))
                .saying("the plan is UTF-16")
                .saying("expected a plan as UTF-8 JSON")
                .saying("Set-Content -Encoding utf8"),
        );
    }
    for (name, with_bom) in [("tf-utf16le-bom", true), ("tf-utf16le", false)] {
        let dir = scratch.tf(name, utf16(SOURCE_WITH_A_FINDING, true, with_bom));
        cases.push(
            Case::new(name, scan(&dir), dir.join("main.tf"), at(1, 1))
                .saying("UTF-16 (little-endian)")
                .saying("expected a Terraform source file in UTF-8"),
        );
    }
    assert_all_refused(&cases);
}

/// A `format_version` that is no version says what it is and what a version looks like.
#[test]
fn format_versions_that_are_no_version() {
    let scratch = Scratch::new("format-versions");
    let mut cases = Vec::new();
    for (name, version, says) in [
        ("format-version-empty", "", "invalid value: string \"\""),
        (
            "format-version-text",
            "latest",
            "invalid value: string \"latest\"",
        ),
        (
            "format-version-dotted-end",
            "1.",
            "invalid value: string \"1.\"",
        ),
        (
            "format-version-long",
            &"x".repeat(100),
            "a string of 100 characters",
        ),
    ] {
        let text = format!("{{\"format_version\": \"{version}\", \"planned_values\": {{}}}}");
        let path = scratch.file(&format!("{name}.json"), text);
        cases.push(
            Case::new(name, scan(&path), &path, Place::Field("format_version"))
                .saying(says)
                .saying("expected a string with a plan format version such as \"1.2\""),
        );
    }
    assert_all_refused(&cases);
}

/// A plan whose one KMS key rotates every `period` days (text as written in the JSON).
fn plan_with_rotation_period(period: &str) -> String {
    let values = format!(
        "{{\"enable_key_rotation\": true, \"key_usage\": \"ENCRYPT_DECRYPT\", \
         \"customer_master_key_spec\": \"SYMMETRIC_DEFAULT\", \"rotation_period_in_days\": \
         {period}}}"
    );
    format!(
        "{{\"format_version\": \"1.2\",\n\"planned_values\": {{\"root_module\": {{\"resources\": \
         [\n{{\"address\": \"aws_kms_key.k\", \"mode\": \"managed\", \"type\": \"aws_kms_key\", \
         \"name\": \"k\", \"values\": {values}}}]}}}},\n\"resource_changes\": [\n{{\"address\": \
         \"aws_kms_key.k\", \"mode\": \"managed\", \"type\": \"aws_kms_key\", \"name\": \"k\", \
         \"change\": {{\"actions\": [\"create\"], \"after\": {values}}}}}]}}\n"
    )
}

/// KEY002 judges `rotation_period_in_days` against the 365 days of the default terms: a
/// number too large for a float must leave it undetermined, not failed as infinite.
fn rotation_undetermined(report: &serde_json::Value) -> bool {
    let verdicts = verdicts(report);
    let key002 = ("\"KEY002\"".to_string(), "\"aws_kms_key.k\"".to_string());
    let undetermined: Vec<(String, String)> =
        serde_json::from_value(verdicts["undetermined"].clone()).unwrap();
    let findings: Vec<(String, String)> =
        serde_json::from_value(verdicts["findings"].clone()).unwrap();
    undetermined.contains(&key002) && !findings.contains(&key002)
}

/// Terraform's numbers have arbitrary precision; `terraform show -json` writes 1e400 as 401
/// digits. Such a number is read as unknown, with a note naming it and its place, in a plan
/// file and in a `.tf` file; where no number belongs it is refused as a number.
#[test]
fn numbers_too_large_for_a_float_are_unknown() {
    let scratch = Scratch::new("huge-numbers");
    let digits = format!("1{}", "0".repeat(400));

    let text = plan_with_rotation_period(&digits);
    let plan = scratch.file("plan.json", &text);
    let report = report_of(&scratch, "plan", scan(&plan), &Feed::Nothing);
    assert!(rotation_undetermined(&report), "{report:#}");
    let column = 1 + text.lines().nth(2).unwrap().find(&digits).unwrap();
    let note = format!(
        "{}:3:{column}: the number 100000000000000000000000... (401 characters) in \
         `planned_values.root_module.resources[0].values.rotation_period_in_days` is too large \
         for a 64-bit float; it was read as unknown",
        plan.display()
    );
    assert!(notes(&report).contains(&note), "{:#?}", notes(&report));

    let negative = scratch.file("negative.json", plan_with_rotation_period("-1.5e999"));
    let report = report_of(&scratch, "negative", scan(&negative), &Feed::Nothing);
    assert!(rotation_undetermined(&report), "{report:#}");
    assert!(notes(&report)
        .iter()
        .any(|note| note.contains("the number -1.5e999 in")));

    let source = "resource \"aws_kms_key\" \"k\" {\n  enable_key_rotation     = true\n  \
                  rotation_period_in_days = 1e400\n  description             = \"1e400\"\n}\n";
    let dir = scratch.tf("tf", source);
    let report = report_of(&scratch, "tf", scan(&dir), &Feed::Nothing);
    assert!(rotation_undetermined(&report), "{report:#}");
    let note = format!(
        "{}:3:29: the number 1e400 is too large for a 64-bit float; it was read as unknown",
        dir.join("main.tf").display()
    );
    assert_eq!(
        notes(&report)
            .iter()
            .filter(|n| n.contains("1e400"))
            .collect::<Vec<_>>(),
        [&note]
    );

    let mut cases = Vec::new();
    let path = scratch.file(
        "address-too-large.json",
        plan_with_resource(
            "{\"address\": 1e400, \"mode\": \"managed\", \"type\": \"t\", \"name\": \"n\"}",
        ),
    );
    cases.push(
        Case::new(
            "address-too-large",
            scan(&path),
            &path,
            Place::Field("planned_values.root_module.resources[0].address"),
        )
        .saying("invalid type: number `1e400` (too large for a 64-bit float), expected a string"),
    );
    // Each number read as unknown is kept for its note: past a thousand the plan is refused.
    let many = vec!["1e400"; 1001].join(", ");
    let path = scratch.file(
        "too-many-too-large.json",
        plan_with_resource(&format!(
            "{{\"address\": \"a.b\", \"mode\": \"managed\", \"type\": \"a\", \"name\": \"b\", \
             \"values\": {{\"list\": [{many}]}}}}"
        )),
    );
    cases.push(
        Case::new("too-many-too-large", scan(&path), &path, Place::SomeLine)
            .saying("more than 1000 numbers too large for a 64-bit float"),
    );
    assert_all_refused(&cases);
}

/// `terraform show -json plan.tfplan | hipaa scan -` and `hipaa scan <(terraform show -json
/// plan.tfplan)`: a plan on standard input or through a pipe scans as the same plan in a file.
/// What is not plan JSON is refused from its first bytes, and an endless stream is cut off
/// (the child's address space is limited, so a stream read into memory without end fails).
#[test]
fn plans_read_from_standard_input_and_pipes() {
    let scratch = Scratch::new("streams");
    let plan = fixture_plan();
    let file = scratch.file("plan.json", &plan);
    let expected = verdicts(&report_of(&scratch, "file", scan(&file), &Feed::Nothing));
    assert_eq!(expected["findings"].as_array().map(Vec::len), Some(1));

    let piped = Feed::Bytes(plan.clone().into_bytes());
    let stdin = report_of(&scratch, "stdin", scan(Path::new("-")), &piped);
    assert_eq!(verdicts(&stdin), expected);
    assert_eq!(stdin["findings"][0]["file"], "<stdin>");
    // What `<(...)` hands over: a /dev/fd path to the read end of a pipe.
    let dev_fd = report_of(&scratch, "dev-fd", scan(Path::new("/dev/fd/0")), &piped);
    assert_eq!(verdicts(&dev_fd), expected);
    let marked = Feed::Bytes([UTF8_BOM, plan.as_bytes()].concat());
    let report = report_of(&scratch, "stdin-marked", scan(Path::new("-")), &marked);
    assert_eq!(verdicts(&report), expected);

    // Standard input redirected from a file is a file: read again to take huge numbers.
    let huge = scratch.file("huge.json", plan_with_rotation_period("1e400"));
    let report = report_of(
        &scratch,
        "redirected",
        scan(Path::new("-")),
        &Feed::File(huge),
    );
    assert!(rotation_undetermined(&report), "{report:#}");
    assert!(
        notes(&report)[0].starts_with("<stdin>:3:"),
        "{:#?}",
        notes(&report)
    );

    let stdin = || scan(Path::new("-"));
    let bytes = |text: &str| Feed::Bytes(text.as_bytes().to_vec());
    let not_a_plan =
        "expected the output of `terraform show -json PLANFILE`, which starts with `{`";
    let bad_actions = plan_with_change("{\"actions\": \"create\", \"after\": {}}");
    let actions_line = 1 + bad_actions
        .lines()
        .position(|l| l.contains("actions"))
        .unwrap();
    let cut = &plan[..plan.len() / 2];
    let huge = plan_with_rotation_period("1e400");
    let named_tf = scratch.0.join("pipe.tf");
    make_fifo(&named_tf);
    let cases = vec![
        Case::new(
            "stdin-bad-plan",
            stdin(),
            "<stdin>",
            on_line(actions_line as u32),
        )
        .fed(bytes(&bad_actions))
        .saying("expected a sequence"),
        Case::new(
            "dev-fd-bad-plan",
            scan(Path::new("/dev/fd/0")),
            "/dev/fd/0",
            on_line(actions_line as u32),
        )
        .fed(bytes(&bad_actions))
        .saying("expected a sequence"),
        Case::new(
            "stdin-cut-short",
            stdin(),
            "<stdin>",
            on_line(cut.lines().count() as u32),
        )
        .fed(bytes(cut))
        .saying("ends early"),
        Case::new("stdin-terraform-source", stdin(), "<stdin>", at(1, 1))
            .fed(bytes(SOURCE_WITH_A_FINDING))
            .saying("it starts with `r`")
            .saying(not_a_plan)
            .saying("name its directory or .tf file"),
        Case::new("stdin-binary-plan", stdin(), "<stdin>", at(1, 1))
            .fed(bytes("PK\u{3}\u{4}binary"))
            .saying("terraform show -json PLANFILE > plan.json"),
        Case::new("stdin-empty", stdin(), "<stdin>", at(1, 1))
            .fed(bytes(""))
            .saying("nothing to read"),
        Case::new("stdin-utf16", stdin(), "<stdin>", at(1, 1))
            .fed(Feed::Bytes(utf16(&plan, true, true)))
            .saying("the plan is UTF-16"),
        Case::new("stdin-zeros", stdin(), "<stdin>", at(1, 1))
            .fed(Feed::Endless {
                head: Vec::new(),
                repeated: vec![0; 1 << 16],
            })
            .saying("the byte 0x00"),
        // One endless object key, which the JSON reader holds whole: cut off at 256 MiB.
        Case::new("stdin-endless", stdin(), "<stdin>", Place::Whole)
            .fed(Feed::Endless {
                head: b"{\"".to_vec(),
                repeated: vec![b'a'; 1 << 16],
            })
            .saying("past 256 MiB"),
        // A pipe cannot be read a second time, which taking such a number as unknown needs.
        // The JSON reader stops, and points, at the number's end.
        Case::new("stdin-number-too-large", stdin(), "<stdin>", on_line(3))
            .fed(bytes(&huge))
            .saying("a pipe does not allow"),
        // A named pipe named as a .tf file is source, refused unopened: opening it would wait
        // for a writer that never comes.
        Case::new(
            "named-pipe-as-tf-file",
            scan(&named_tf),
            &named_tf,
            Place::Whole,
        )
        .saying("not a regular file"),
    ];
    assert_all_refused(&cases);
}

/// A report or baseline written over a file the scan read would destroy the configuration;
/// it is refused, and the file is left as it was.
#[test]
fn reports_are_not_written_over_scanned_files() {
    let scratch = Scratch::new("overwrite");
    let source = "resource \"aws_ebs_volume\" \"v\" {\n  encrypted = false\n}\n";
    let dir = scratch.tf("config", source);
    let main = dir.join("main.tf");

    let cases: Vec<Case> = ["--output", "--write-baseline"]
        .into_iter()
        .map(|flag| {
            let args = scan_with(&dir, &[flag, main.to_str().unwrap()]);
            Case::new(flag, args, &main, Place::Whole).saying("a file the scan read")
        })
        .collect();
    assert_all_refused(&cases);
    assert_eq!(std::fs::read_to_string(&main).unwrap(), source);
}
