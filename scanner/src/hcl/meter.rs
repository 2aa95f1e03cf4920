//! What one load may spend, so that no configuration can exhaust memory or keep the scanner busy
//! for minutes: the bytes of values it builds, the size of any one value, the data it hands to
//! functions, its evaluation steps and its resource and module instances.
//!
//! Each limit is far beyond what real configurations use (the 50,000-resource benchmark tree
//! builds 84 MB of values and passes 8 MB to functions), and going past one is an error naming the
//! declaration being evaluated. The load stops rather than going on with unknown values: a scan
//! that quietly judged less than the configuration declares would pass code it never read.
//!
//! The meter lives in a thread-local because values are built by constructors called from every
//! corner of the evaluator and its functions, which would otherwise all need a handle to it.
//! One load evaluates on one thread, and [`start`] gives it a fresh meter.

use std::cell::Cell;

/// The most bytes of values (strings, lists, maps, blocks) one load builds, counted as they are
/// built and never given back, so that memory stays bounded whatever is freed in between.
pub(crate) const MAX_BUILT_BYTES: u64 = 512 << 20;

/// The largest one value may be, counted with every copy of a shared part: walking a value
/// (to convert it, collect its references or encode it) costs this much, so a few lines that
/// each double a list cannot build one too large to walk.
pub(crate) const MAX_VALUE_BYTES: u32 = 256 << 20;

/// The most data, in bytes of the arguments' values, one load passes to functions: each call
/// reads its arguments at least once, so this bounds the time functions take.
pub(crate) const MAX_FUNCTION_INPUT: u64 = 4 << 30;

/// Evaluation steps one load may take. Enough for hundreds of thousands of resources.
pub(crate) const MAX_STEPS: u64 = 50_000_000;

/// The most instances `count` and `for_each` may make in one load, all blocks and modules
/// together: each costs a few KiB. Four times the largest estate benchmarked
/// (`hipaa-gen --resources 50000`).
pub(crate) const MAX_TOTAL_INSTANCES: usize = 200_000;

/// The limit a load went past.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exceeded {
    StringBytes,
    Elements,
    BuiltBytes,
    ValueBytes,
    FunctionInput,
    Steps,
    Instances,
}

impl Exceeded {
    /// What the configuration did, and what was expected instead.
    pub fn describe(self) -> &'static str {
        match self {
            Exceeded::StringBytes => {
                "the configuration builds a string longer than 16 MiB; expected strings of at \
                 most 16 MiB"
            }
            Exceeded::Elements => {
                "the configuration builds a collection of more than 1,048,576 elements; \
                 expected at most 1,048,576"
            }
            Exceeded::BuiltBytes => {
                "the configuration builds more than 512 MiB of values (strings, lists, maps and \
                 blocks); expected at most 512 MiB in all"
            }
            Exceeded::ValueBytes => {
                "the configuration builds a single value larger than 256 MiB; expected every \
                 value to be at most 256 MiB"
            }
            Exceeded::FunctionInput => {
                "the configuration passes more than 4 GiB of data to functions; expected at \
                 most 4 GiB in all"
            }
            Exceeded::Steps => {
                "the configuration needs more than 50,000,000 evaluation steps; expected at \
                 most 50,000,000"
            }
            Exceeded::Instances => {
                "the configuration makes more than 200,000 resource and module instances \
                 with count, for_each and modules; expected at most 200,000"
            }
        }
    }
}

struct Meter {
    built_left: Cell<u64>,
    input_left: Cell<u64>,
    exceeded: Cell<Option<Exceeded>>,
}

thread_local! {
    static METER: Meter = const {
        Meter {
            built_left: Cell::new(MAX_BUILT_BYTES),
            input_left: Cell::new(MAX_FUNCTION_INPUT),
            exceeded: Cell::new(None),
        }
    };
}

/// Gives this thread's next load the whole of every limit.
pub(crate) fn start() {
    METER.with(|meter| {
        meter.built_left.set(MAX_BUILT_BYTES);
        meter.input_left.set(MAX_FUNCTION_INPUT);
        meter.exceeded.set(None);
    });
}

/// The first limit this load went past, if any.
pub(crate) fn exceeded() -> Option<Exceeded> {
    METER.with(|meter| meter.exceeded.get())
}

/// Records that a limit was passed; the first one passed is the one reported.
pub(crate) fn trip(why: Exceeded) {
    METER.with(|meter| {
        if meter.exceeded.get().is_none() {
            meter.exceeded.set(Some(why));
        }
    });
}

/// Counts bytes of values built; false once the load has built more than it may, or went past
/// another limit, so that the caller builds nothing more.
pub(crate) fn charge_built(bytes: u64) -> bool {
    METER.with(|meter| spend(meter, &meter.built_left, bytes, Exceeded::BuiltBytes))
}

/// Counts bytes of arguments handed to a function; false as [`charge_built`].
pub(crate) fn charge_function_input(bytes: u64) -> bool {
    METER.with(|meter| spend(meter, &meter.input_left, bytes, Exceeded::FunctionInput))
}

fn spend(meter: &Meter, left: &Cell<u64>, amount: u64, why: Exceeded) -> bool {
    if meter.exceeded.get().is_some() {
        return false;
    }
    match left.get().checked_sub(amount) {
        Some(rest) => {
            left.set(rest);
            true
        }
        None => {
            meter.exceeded.set(Some(why));
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_limit_passed_is_kept_until_the_next_load() {
        start();
        assert!(charge_built(MAX_BUILT_BYTES));
        assert_eq!(exceeded(), None);
        assert!(!charge_built(1));
        trip(Exceeded::Steps);
        assert_eq!(exceeded(), Some(Exceeded::BuiltBytes));
        assert!(
            !charge_function_input(1),
            "nothing more once a limit is passed"
        );

        start();
        assert_eq!(exceeded(), None);
        assert!(charge_function_input(1));
    }
}
