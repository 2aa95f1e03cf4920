//! Reads a large mapped plan in two parts at once, one per core.
//!
//! Terraform writes the members of a plan in a fixed order, and the two largest,
//! `planned_values` and `resource_changes`, stand next to each other. So the plan is cut where
//! the text `"resource_changes"` is first found: one thread reads from the start of the plan
//! up to there, another from there to the end, each with a JSON parser of its own.
//!
//! That text could also stand inside a value (an attribute or a tag of that name), so the cut
//! is checked, not trusted. The earlier part must arrive exactly at the cut between two members
//! of the plan object, and the later part must read members from there to the end of the plan.
//! Together they have then read the whole plan as one JSON object, member by member. When
//! either part fails (the text was inside a value, the plan is not as Terraform writes it, or
//! its JSON is broken) the caller reads the plan again front to back, which gives the plan's
//! error if it has one.
//!
//! A plan read front to back keeps a resource's values from whichever section gives them
//! first, and skips them unbuilt in the sections after. The later part cannot know what the
//! earlier part found, so it keeps the place of the values it meets instead ([`Wanted::Place`]);
//! its entries are then taken into the earlier part's [`Gathered`] in the order they were read,
//! by the same rules as front to back, and only the values those rules keep are built.
//!
//! The earlier part holds every planned value, and building values takes several times longer
//! per byte than passing over them. So the earlier part keeps the places of the planned values
//! it is to keep as well, and once each thread has read its part it builds them, taking a few
//! at a time from a shared list until none is left ([`Deferred`]); the earlier part's thread
//! takes the later part's entries in between two takes, as soon as they are handed over. Both
//! threads then end at about the same time. The earlier part's pages stay mapped until its
//! values are built.
//!
//! One difference remains, for JSON nested about 128 levels deep: each part's parser counts
//! nesting from the members of the plan object rather than from the plan object itself, so a
//! plan one level short of the limit when read front to back is read in two parts.

use super::mapped::{DropBehind, Mapping};
use super::stream::{
    ChangeParts, Facts, Field, Gathered, Head, MemberSeed, Section, Sink, Taken, Wanted,
};
use super::values::{Marks, PlanAttributes};
use crate::runs;
use crate::value::Value;
use serde::de::{DeserializeSeed, IgnoredAny};
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};

/// Plans smaller than this are read by one thread: a second would cost more than it saves.
pub const TWO_PARTS_FROM_BYTES: usize = 16 << 20;

/// Fewer bytes than a resource takes in a plan: Terraform writes each one at least twice, with
/// its address, type and name each time, and a kilobyte or more of values.
const BYTES_PER_RESOURCE_AT_LEAST: usize = 1_024;

/// The member the later part starts with.
const CUT_AT: &[u8] = b"\"resource_changes\"";

/// The mapping a plan's text lies in, and where the text (past any byte order mark) starts in
/// it: each part hands back the pages it has read.
pub struct InMapping<'m> {
    pub mapping: &'m Arc<Mapping>,
    pub text_offset: usize,
}

/// Reads the plan in `json` in two parts at once, or says it cannot (`None`): then the plan
/// must be read front to back.
pub fn gather_in_two_parts(json: &[u8], mapping: Option<InMapping>) -> Option<Gathered> {
    let cut = memchr::memmem::find(json, CUT_AT)?;
    let drop_behind = |from: usize| {
        mapping
            .as_ref()
            .map(|m| DropBehind::from(m.mapping.clone(), m.text_offset + from))
    };
    // The search brought in every page before the cut; they are handed back at once rather
    // than held until the earlier part has read past them.
    if let Some(mut searched) = drop_behind(0) {
        searched.passed(json[cut..].as_ptr());
    }
    let earlier_drop_behind = drop_behind(0);
    let later_drop_behind = drop_behind(cut);

    std::thread::scope(|scope| {
        let (share, shared) = mpsc::channel::<Arc<Deferred>>();
        let (hand_over, handed_over) = mpsc::channel::<Option<Recorder>>();
        let later = scope.spawn(move || {
            let recorder = read_later_part(json, cut, later_drop_behind);
            let read = recorder.is_some();
            // The earlier part takes the entries in while this thread helps build its values.
            let _ = hand_over.send(recorder);
            match shared.recv() {
                Ok(deferred) if read => deferred.build_share(|| {}),
                Ok(deferred) => {
                    deferred.give_up();
                    Vec::new()
                }
                Err(_) => Vec::new(),
            }
        });

        let Some(earlier) = read_earlier_part(json, cut) else {
            // Dropping `share` tells the later part that no values are coming.
            return None;
        };
        let mut gathered = earlier.gathered;
        let deferred = Arc::new(Deferred::new(earlier.places));
        // A send fails only when the later part has already ended, which it does only by
        // panicking; `joined` below passes that on.
        let _ = share.send(deferred.clone());

        // The later part's entries are taken in as soon as they are handed over, between two
        // takes of planned values. The values' stand-ins show them what front to back shows.
        let mut taken_in = None;
        let take_in_handed_over = |gathered: &mut Gathered, recorder: Option<Recorder>| {
            let ok = recorder.is_some_and(|recorder| take_in(gathered, recorder).is_ok());
            if !ok {
                deferred.give_up();
            }
            ok
        };
        let built_here = deferred.build_share(|| {
            if taken_in.is_none() {
                if let Ok(recorder) = handed_over.try_recv() {
                    taken_in = Some(take_in_handed_over(&mut gathered, recorder));
                }
            }
        });
        if taken_in.is_none() {
            // An error means the later part panicked, which `joined` passes on.
            taken_in = handed_over
                .recv()
                .ok()
                .map(|recorder| take_in_handed_over(&mut gathered, recorder));
        }
        let built_there = runs::joined(later);
        if deferred.given_up() || taken_in != Some(true) {
            return None;
        }

        for (index, values) in built_here.into_iter().chain(built_there) {
            gathered.instances[index].values = Some(values);
        }
        // The planned values are built: the pages of the earlier part are not needed again.
        if let Some(mut earlier_pages) = earlier_drop_behind {
            earlier_pages.passed(json[cut..].as_ptr());
        }
        Some(gathered)
    })
}

/// What the earlier part read: all it gathered, with its planned values still as text.
struct Earlier<'de> {
    gathered: Gathered,
    /// The instances whose planned values are left to build, by index, with their text.
    places: Vec<(usize, &'de str)>,
}

/// The plan from its start up to the member at `cut`, which must be where a member starts.
fn read_earlier_part(json: &[u8], cut: usize) -> Option<Earlier<'_>> {
    let mut earlier = Earlier {
        gathered: Gathered::default(),
        places: Vec::new(),
    };
    // Room for about as many resources as the plan can hold, so the lists do not grow and
    // move as they come; room that is never filled is never touched, and costs nothing.
    let room = json.len() / BYTES_PER_RESOURCE_AT_LEAST;
    earlier.gathered.instances.reserve(room);
    earlier.places.reserve(room);
    let mut members = Members { json, at: 0 };
    members.byte(b'{')?;

    loop {
        members.skip_whitespace();
        if members.at >= cut {
            return (members.at == cut).then_some(earlier);
        }

        if !members.member(&mut earlier)? {
            // The plan ended before the cut: it was inside a value.
            return None;
        }
    }
}

/// The earlier part's sink: a [`Gathered`] that keeps the places of the planned values it is
/// to keep, for both threads to build once each has read its part ([`Deferred`]).
impl<'de> Sink<'de> for Earlier<'de> {
    fn facts(&mut self) -> &mut Facts {
        &mut self.gathered.facts
    }

    fn wants_values(&self, section: Section, mode: Option<&str>, address: Option<&str>) -> Wanted {
        let wanted = self.gathered.wanted_values(section, mode, address);
        // Values given before their entry's address are built at once, as front to back: the
        // instance they belong to is not known until the entry ends.
        if section == Section::Planned && wanted == Wanted::Read && address.is_some() {
            return Wanted::Place;
        }
        wanted
    }

    fn wants_after(&self, address: Option<&str>) -> Wanted {
        self.gathered.wanted_after(address)
    }

    fn drop_behind(&mut self) -> Option<&mut DropBehind> {
        None
    }

    fn state_resource(
        &mut self,
        section: Section,
        head: Head<'de>,
        values: Taken<'de>,
        sensitive: Marks,
    ) {
        let Taken::Text(text) = values else {
            self.gathered
                .state_resource(section, head, values, sensitive);
            return;
        };
        // `Null` stands in for the values until they are built, so that the entries read
        // after this one see that the instance has them, as they would front to back.
        let kept = self
            .gathered
            .add_state_resource(section, head, Some(Value::Null), sensitive);
        if let Some(index) = kept {
            self.places.push((index, text));
        }
    }

    fn change(
        &mut self,
        head: Head<'de>,
        module_address: Option<String>,
        deposed: bool,
        change: ChangeParts<Taken<'de>>,
    ) {
        self.gathered.change(head, module_address, deposed, change);
    }
}

/// Planned values left as text, built by whichever thread takes them first.
struct Deferred<'de> {
    places: Vec<(usize, &'de str)>,
    /// The first place no thread has taken yet.
    next: AtomicUsize,
    /// Set when a text is refused or the later part failed: the plan is then read again front
    /// to back, and nothing more need be built.
    given_up: AtomicBool,
}

impl<'de> Deferred<'de> {
    /// Places a thread takes at a time: enough that the threads seldom meet on `next`, few
    /// enough that neither is left with a long run when the other has finished.
    const TAKEN_AT_ONCE: usize = 64;

    fn new(places: Vec<(usize, &'de str)>) -> Deferred<'de> {
        Deferred {
            places,
            next: AtomicUsize::new(0),
            given_up: AtomicBool::new(false),
        }
    }

    /// Builds places until none is left, and returns what it built with each instance's index.
    /// `between_takes` runs before each take.
    fn build_share(&self, mut between_takes: impl FnMut()) -> Vec<(usize, Value)> {
        let mut built = Vec::new();
        loop {
            between_takes();
            if self.given_up() {
                break;
            }

            let start = self.next.fetch_add(Self::TAKEN_AT_ONCE, Ordering::Relaxed);
            let Some(taken) = self.places.get(start..) else {
                break;
            };
            for &(index, text) in taken.iter().take(Self::TAKEN_AT_ONCE) {
                match serde_json::from_str::<PlanAttributes>(text) {
                    Ok(values) => built.push((index, values.0)),
                    Err(_) => {
                        self.give_up();
                        break;
                    }
                }
            }
        }
        built
    }

    fn give_up(&self) {
        self.given_up.store(true, Ordering::Relaxed);
    }

    fn given_up(&self) -> bool {
        self.given_up.load(Ordering::Relaxed)
    }
}

/// The members of the plan from the one at `cut` to the end of the plan.
fn read_later_part(
    json: &[u8],
    cut: usize,
    drop_behind: Option<DropBehind>,
) -> Option<Recorder<'_>> {
    let mut recorder = Recorder {
        facts: Facts::default(),
        entries: Chunks::default(),
        drop_behind,
    };
    let mut members = Members { json, at: cut };

    while members.member(&mut recorder)? {}

    members.skip_whitespace();
    (members.at == json.len()).then_some(recorder)
}

/// Takes the entries of the later part into what the earlier part gathered, as if read after
/// it, building the values that are kept. The error is a value's JSON the parser refused.
fn take_in(gathered: &mut Gathered, later: Recorder) -> Result<(), serde_json::Error> {
    gathered.facts.then(later.facts);

    for entry in later.entries {
        match entry {
            Entry::State {
                section,
                head,
                values,
                sensitive,
            } => {
                let values = values.into_values(|| {
                    gathered.wanted_values(section, Some(&*head.mode), Some(&*head.address))
                })?;
                gathered.add_state_resource(section, head, values, sensitive);
            }
            Entry::Change {
                head,
                module_address,
                deposed,
                change,
            } => {
                let after = change
                    .after
                    .into_values(|| gathered.wanted_after(Some(&*head.address)))?;
                let change = ChangeParts {
                    actions: change.actions,
                    after,
                    unknown: change.unknown,
                    sensitive: change.sensitive,
                };
                gathered.add_change(head, module_address, deposed, change);
            }
        }
    }
    Ok(())
}

impl Taken<'_> {
    /// The values taken, those whose place was kept built now if `wanted` says they are read.
    fn into_values(
        self,
        wanted: impl FnOnce() -> Wanted,
    ) -> Result<Option<Value>, serde_json::Error> {
        match self {
            Taken::Text(text) if wanted() == Wanted::Read => {
                serde_json::from_str::<PlanAttributes>(text).map(|values| Some(values.0))
            }
            Taken::Text(_) | Taken::None => Ok(None),
            Taken::Built(value) => Ok(Some(value)),
        }
    }
}

/// What the later part read of one resource entry.
enum Entry<'de> {
    State {
        section: Section,
        head: Head<'de>,
        values: Taken<'de>,
        sensitive: Marks,
    },
    Change {
        head: Head<'de>,
        module_address: Option<String>,
        deposed: bool,
        change: ChangeParts<Taken<'de>>,
    },
}

/// The sink of the later part: its entries in the order read, with the places of their values.
struct Recorder<'de> {
    facts: Facts,
    entries: Chunks<Entry<'de>>,
    drop_behind: Option<DropBehind>,
}

/// A list that grows a chunk at a time, so what it holds never moves: the later part records
/// an entry of a few hundred bytes for each resource, and a vector doubling its size would copy
/// them over and over into fresh memory.
struct Chunks<T> {
    chunks: Vec<Vec<T>>,
}

impl<T> Default for Chunks<T> {
    fn default() -> Chunks<T> {
        Chunks { chunks: Vec::new() }
    }
}

impl<T> Chunks<T> {
    const CHUNK_LEN: usize = 4_096;

    fn push(&mut self, item: T) {
        match self.chunks.last_mut() {
            Some(last) if last.len() < last.capacity() => last.push(item),
            _ => {
                let mut chunk = Vec::with_capacity(Self::CHUNK_LEN);
                chunk.push(item);
                self.chunks.push(chunk);
            }
        }
    }
}

impl<T> IntoIterator for Chunks<T> {
    type Item = T;
    type IntoIter = std::iter::Flatten<std::vec::IntoIter<Vec<T>>>;

    fn into_iter(self) -> Self::IntoIter {
        self.chunks.into_iter().flatten()
    }
}

impl<'de> Sink<'de> for Recorder<'de> {
    fn facts(&mut self) -> &mut Facts {
        &mut self.facts
    }

    fn wants_values(&self, section: Section, mode: Option<&str>, address: Option<&str>) -> Wanted {
        // Front to back, only data sources are read from the prior state, and values whose
        // entry has not given its address yet are read, since nothing can be looked up.
        if section == Section::Prior && mode.is_some_and(|mode| mode != "data") {
            return Wanted::Skip;
        }
        if address.is_none() {
            return Wanted::Read;
        }
        Wanted::Place
    }

    fn wants_after(&self, address: Option<&str>) -> Wanted {
        if address.is_none() {
            return Wanted::Read;
        }
        Wanted::Place
    }

    fn drop_behind(&mut self) -> Option<&mut DropBehind> {
        self.drop_behind.as_mut()
    }

    fn state_resource(
        &mut self,
        section: Section,
        head: Head<'de>,
        values: Taken<'de>,
        sensitive: Marks,
    ) {
        // Taking in a managed resource of the prior state changes nothing (see
        // `Gathered::add_state_resource`), and a plan has one for every resource it keeps.
        if section == Section::Prior && head.mode != "data" {
            return;
        }
        self.entries.push(Entry::State {
            section,
            head,
            values,
            sensitive,
        });
    }

    fn change(
        &mut self,
        head: Head<'de>,
        module_address: Option<String>,
        deposed: bool,
        change: ChangeParts<Taken<'de>>,
    ) {
        self.entries.push(Entry::Change {
            head,
            module_address,
            deposed,
            change,
        });
    }
}

/// Reads the members of the plan object one at a time, each value with a parser of its own.
struct Members<'j> {
    json: &'j [u8],
    at: usize,
}

impl<'j> Members<'j> {
    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.json.get(self.at) {
            self.at += 1;
        }
    }

    /// Moves past `expected`, the next byte that is not whitespace.
    fn byte(&mut self, expected: u8) -> Option<()> {
        self.skip_whitespace();
        (self.json.get(self.at) == Some(&expected)).then(|| self.at += 1)
    }

    /// Parses the JSON value that comes next with `seed`, and moves past it.
    fn value<S: DeserializeSeed<'j>>(&mut self, seed: S) -> Option<S::Value> {
        self.skip_whitespace();
        let mut parser = serde_json::Deserializer::from_slice(self.json.get(self.at..)?);
        let value = seed.deserialize(&mut parser).ok()?;
        // A stream of values starts where the parser stands: right after the value.
        self.at += parser.into_iter::<IgnoredAny>().byte_offset();
        Some(value)
    }

    /// Reads one member into `sink`: its key, the colon, its value, and the comma before
    /// another member (`true`) or the brace that closes the plan object (`false`).
    fn member<S: Sink<'j>>(&mut self, sink: &mut S) -> Option<bool> {
        let field = self.value(PhantomData::<Field>)?;
        self.byte(b':')?;
        self.value(MemberSeed { field, sink })?;
        self.next_member()
    }

    /// Moves past the comma before another member (`true`) or the brace that closes the plan
    /// object (`false`).
    fn next_member(&mut self) -> Option<bool> {
        self.skip_whitespace();
        let more = match self.json.get(self.at)? {
            b',' => true,
            b'}' => false,
            _ => return None,
        };
        self.at += 1;
        Some(more)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Everything a gathering holds, spelled out to compare two of them.
    fn spelled(gathered: &Gathered) -> String {
        let facts = &gathered.facts;
        format!(
            "{:?}\nversion {:?} state {} planned {} changes {} configuration {}",
            gathered.instances,
            facts.format_version,
            facts.has_state_values,
            facts.has_planned_values,
            facts.has_resource_changes,
            facts.configuration.is_some(),
        )
    }

    fn front_to_back(json: &str) -> Gathered {
        let mut gathered = Gathered::default();
        let mut parser = serde_json::Deserializer::from_str(json);
        super::super::stream::PlanSeed {
            sink: &mut gathered,
        }
        .deserialize(&mut parser)
        .and_then(|()| parser.end())
        .expect("a plan");
        gathered
    }

    /// Reads `json` both ways and says whether it could be read in two parts; the two readings
    /// must agree when it could.
    fn agrees(json: &str) -> bool {
        let whole = front_to_back(json);
        let Some(parts) = gather_in_two_parts(json.as_bytes(), None) else {
            return false;
        };
        assert_eq!(spelled(&parts), spelled(&whole), "plan:\n{json}");
        true
    }

    fn resource(address: &str, values: &str) -> String {
        let (kind, name) = address.split_once('.').unwrap_or(("", address));
        format!(
            r#"{{"address":"{address}","mode":"managed","type":"{kind}","name":"{name}",
                "values":{values},"sensitive_values":{{}}}}"#
        )
    }

    fn change(address: &str, actions: &str, after: &str, unknown: &str) -> String {
        let (kind, name) = address.split_once('.').unwrap_or(("", address));
        format!(
            r#"{{"address":"{address}","mode":"managed","type":"{kind}","name":"{name}",
                "change":{{"actions":{actions},"before":null,"after":{after},
                "after_unknown":{unknown},"after_sensitive":{{"password":true}}}}}}"#
        )
    }

    fn plan(planned: &[String], changes: &[String], prior: &str) -> String {
        format!(
            r#"{{"format_version":"1.2","terraform_version":"1.11.4","variables":{{}},
              "planned_values":{{"root_module":{{"resources":[{}]}}}},
              "resource_changes":[{}],
              "prior_state":{prior},
              "configuration":{{"root_module":{{}}}},
              "timestamp":"2026-01-01T00:00:00Z","applyable":true}}"#,
            planned.join(","),
            changes.join(",")
        )
    }

    const NO_PRIOR: &str = r#"{"format_version":"1.0","values":{"root_module":{}}}"#;

    #[test]
    fn a_plan_as_terraform_writes_it_reads_the_same_in_two_parts() {
        let planned = [
            resource("aws_s3_bucket.a", r#"{"bucket":"a","tags":{"phi":"yes"}}"#),
            resource("aws_kms_key.k", r#"{"enable_key_rotation":false}"#),
        ];
        let changes = [
            change(
                "aws_s3_bucket.a",
                r#"["create"]"#,
                r#"{"bucket":"a","tags":{"phi":"yes"}}"#,
                r#"{"arn":true}"#,
            ),
            change(
                "aws_kms_key.k",
                r#"["update"]"#,
                r#"{"enable_key_rotation":false}"#,
                "{}",
            ),
            // Destroyed: in no planned values, and removed.
            change("aws_db_instance.old", r#"["delete"]"#, "null", "{}"),
            // Only in the changes: its `after` is built when taken in.
            change(
                "aws_ebs_volume.v",
                r#"["create"]"#,
                r#"{"encrypted":false,"password":"x"}"#,
                "{}",
            ),
        ];
        let prior = r#"{"format_version":"1.0","values":{"root_module":{"resources":[
            {"address":"data.aws_caller_identity.me","mode":"data","type":"aws_caller_identity",
             "name":"me","values":{"account_id":"123"}},
            {"address":"aws_s3_bucket.a","mode":"managed","type":"aws_s3_bucket","name":"a",
             "values":{"bucket":"old"}}]}}}"#;

        let json = plan(&planned, &changes, prior);
        assert!(agrees(&json));

        let parts = gather_in_two_parts(json.as_bytes(), None).unwrap();
        let volume = parts
            .instances
            .iter()
            .find(|i| i.address == "aws_ebs_volume.v")
            .unwrap();
        assert_eq!(
            volume.values.as_ref().unwrap().at("encrypted"),
            &Value::Bool(false)
        );
        let identity = parts
            .instances
            .iter()
            .find(|i| i.address == "data.aws_caller_identity.me")
            .unwrap();
        assert_eq!(
            identity.values.as_ref().unwrap().at("account_id"),
            &Value::from("123")
        );
    }

    #[test]
    fn entries_that_give_their_address_late_are_read_as_front_to_back() {
        let late = r#"{"change":{"actions":["create"],"after":{"encrypted":true}},
            "address":"aws_ebs_volume.late","mode":"managed","type":"aws_ebs_volume",
            "name":"late"}"#;
        let json = plan(&[], &[late.to_string()], NO_PRIOR);
        assert!(agrees(&json));
    }

    #[test]
    fn the_cut_inside_a_value_is_refused() {
        // A tag named like the member: the earlier part passes the cut inside planned values.
        let planned = [resource(
            "aws_s3_bucket.a",
            r#"{"tags":{"resource_changes":"x"}}"#,
        )];
        let json = plan(&planned, &[], NO_PRIOR);
        assert!(gather_in_two_parts(json.as_bytes(), None).is_none());
    }

    #[test]
    fn broken_json_in_either_part_is_left_to_the_reader_front_to_back() {
        let json = plan(&[], &[], NO_PRIOR);
        let broken_later = json.replace(r#""applyable":true"#, r#""applyable":tru"#);
        assert!(gather_in_two_parts(broken_later.as_bytes(), None).is_none());

        let broken_earlier = json.replace(r#""variables":{}"#, r#""variables":{"#);
        assert!(gather_in_two_parts(broken_earlier.as_bytes(), None).is_none());

        let trailing = format!("{json} x");
        assert!(gather_in_two_parts(trailing.as_bytes(), None).is_none());
    }

    /// More planned values than the threads take at once, so that both build some.
    fn many_planned(values_of: impl Fn(usize) -> String) -> Vec<String> {
        (0..Deferred::TAKEN_AT_ONCE * 8)
            .map(|i| resource(&format!("aws_ebs_volume.v{i}"), &values_of(i)))
            .collect()
    }

    #[test]
    fn planned_values_built_by_both_threads_read_the_same() {
        let planned = many_planned(|i| format!(r#"{{"encrypted":{},"size":{i}}}"#, i % 3 == 0));
        let changes = [change(
            "aws_ebs_volume.v7",
            r#"["update"]"#,
            r#"{"encrypted":false}"#,
            r#"{"kms_key_id":true}"#,
        )];
        assert!(agrees(&plan(&planned, &changes, NO_PRIOR)));
    }

    #[test]
    fn a_planned_value_refused_while_built_leaves_the_plan_to_front_to_back() {
        // Both pass as JSON while the earlier part keeps their places, and fail only when
        // built: a number too large for a float, and values that are not an object.
        for refused in ["{\"size\":1e999}", "5"] {
            let planned = many_planned(|i| match i {
                300 => refused.to_string(),
                _ => format!(r#"{{"size":{i}}}"#),
            });
            let json = plan(&planned, &[], NO_PRIOR);
            assert!(
                gather_in_two_parts(json.as_bytes(), None).is_none(),
                "{refused}"
            );
        }
    }

    #[test]
    fn a_later_value_refused_while_taken_in_leaves_the_plan_to_front_to_back() {
        // An instance with no planned values: its `after` is built when the later part's
        // entries are taken in, beside the building of the planned values.
        let planned = many_planned(|i| format!(r#"{{"size":{i}}}"#));
        let changes = [change(
            "aws_ebs_volume.late",
            r#"["create"]"#,
            r#"{"size":1e999}"#,
            "{}",
        )];
        let json = plan(&planned, &changes, NO_PRIOR);
        assert!(gather_in_two_parts(json.as_bytes(), None).is_none());
    }

    #[test]
    fn a_broken_later_part_stops_the_building_of_planned_values() {
        let planned = many_planned(|i| format!(r#"{{"size":{i}}}"#));
        let json = plan(&planned, &[], NO_PRIOR).replace(r#""applyable":true"#, r#""applyable":"#);
        assert!(gather_in_two_parts(json.as_bytes(), None).is_none());
    }

    #[test]
    fn members_in_another_order_read_the_same() {
        // Changes before planned values: the later part meets the planned values and keeps
        // their places; the earlier part is the first few members only.
        let json = format!(
            r#"{{"format_version":"1.2","resource_changes":[{}],
              "planned_values":{{"root_module":{{"resources":[{}]}}}}}}"#,
            change(
                "aws_ebs_volume.v",
                r#"["create"]"#,
                r#"{"encrypted":true}"#,
                "{}"
            ),
            resource("aws_ebs_volume.v", r#"{"encrypted":false}"#),
        );
        assert!(agrees(&json));
    }

    #[test]
    fn what_front_to_back_refuses_is_never_read_in_two_parts() {
        let planned = [resource(
            "aws_s3_bucket.a",
            r#"{"bucket":"a","tags":{"phi":"yes"}}"#,
        )];
        let changes = [
            change(
                "aws_s3_bucket.a",
                r#"["create"]"#,
                r#"{"bucket":"a"}"#,
                "{}",
            ),
            change("aws_ebs_volume.v", r#"["create"]"#, r#"{"size":1}"#, "{}"),
        ];
        let json = plan(&planned, &changes, NO_PRIOR);
        let pieces = [
            "\"resource_changes\":",
            ",\"resource_changes\":[]",
            "{",
            "}",
            "]",
            ",",
            "\"",
            "1e400",
        ];

        // A fixed sequence of small damages: bytes dropped, pieces of plan text put in.
        let mut seed: u64 = 0x5eed;
        let mut next = |below: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize % below
        };
        let mut read_in_parts = 0;
        for _ in 0..2_000 {
            let mut damaged = json.clone().into_bytes();
            let at = next(damaged.len());
            if next(2) == 0 {
                damaged.remove(at);
            } else {
                let piece = pieces[next(pieces.len())].as_bytes();
                damaged.splice(at..at, piece.iter().copied());
            }
            let Ok(damaged) = String::from_utf8(damaged) else {
                continue;
            };

            let mut whole = Gathered::default();
            let mut parser = serde_json::Deserializer::from_str(&damaged);
            let read = super::super::stream::PlanSeed { sink: &mut whole }
                .deserialize(&mut parser)
                .and_then(|()| parser.end());
            let parts = gather_in_two_parts(damaged.as_bytes(), None);
            match (read, parts) {
                (Err(_), Some(_)) => panic!("read in two parts, refused front to back:\n{damaged}"),
                (Ok(()), Some(parts)) => {
                    read_in_parts += 1;
                    assert_eq!(spelled(&parts), spelled(&whole), "plan:\n{damaged}");
                }
                _ => {}
            }
        }
        // Most damages leave a plan that is still read, in two parts.
        assert!(read_in_parts > 200, "{read_in_parts}");
    }

    #[test]
    fn the_test_plans_read_the_same_in_two_parts() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let plans = [
            "tests/cases/plan-sensitive-values/plan.json",
            "tests/cases/plan-child-module-ebs/plan.json",
            "tests/cases/plan-unknown-kms-key/plan.json",
            "scanner/tests/fixtures/plan/terraform-data/plan.json",
            "scanner/tests/fixtures/output/plan.json",
        ];
        for plan in plans {
            let json = std::fs::read_to_string(root.join(plan)).unwrap();
            let has_changes = json.contains("\"resource_changes\"");
            assert_eq!(agrees(&json), has_changes, "{plan}");
        }
    }
}
