//! Where PHI goes: the closure of the data-flow table (`hipaa_compliance::dataflow`) over the
//! resources of one scan, starting from the declared PHI sources (boundary members and the
//! resources of `hipaa_phi_system` declarations).
//!
//! The closure is computed once per scan, in time linear in the number of resources and flows:
//! one pass builds the edges, one breadth-first walk marks every resource PHI reaches (a replica
//! of a replica included), and a second walk marks the resources PHI *might* reach because a
//! flow into them starts at a resource that cannot be known before apply.

use crate::address_hash::AddressMap;
use crate::links::Index;
use crate::model::{Mode, Resource};
use crate::policy::Policy;
use crate::runs;
use crate::value::Value;
use hipaa_compliance::dataflow::{self, DataFlow, Endpoint};
use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::OnceLock;

/// Attributes whose literal value another resource may use to name this one.
const NAME_ATTRIBUTES: &[&str] = &[
    "arn",
    "id",
    "bucket",
    "name",
    "function_name",
    "identifier",
    "cluster_identifier",
    "self_link",
];

/// Prefixes of literals that name one resource whatever its type. A bare name ("records")
/// could name a bucket, a table and a function alike, so it is only matched where the flow
/// says which types it may name.
const UNIQUE_NAME_PREFIXES: &[&str] = &["arn:", "projects/", "/subscriptions/"];

const S3_ARN_PREFIX: &str = "arn:aws:s3:::";

/// How PHI arrives in a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arrival {
    /// The declared PHI source the chain starts at: an address, or a literal ARN of a source
    /// outside this configuration.
    pub origin: String,
    /// The address of the resource the data came from directly (the origin for one hop).
    pub from: String,
    /// The kind of the last flow, e.g. "replication".
    pub kind: &'static str,
    /// The address of the resource that declares the last flow.
    pub declared_by: String,
    /// How many flows the data crossed from its origin.
    pub hops: usize,
}

/// What the closure knows about one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Receipt {
    /// PHI arrives along a flow.
    Receives(Arrival),
    /// PHI may arrive: a flow into the resource starts somewhere that cannot be known.
    Maybe {
        declared_by: String,
        kind: &'static str,
    },
}

/// The resources PHI reaches along data flows, by address.
#[derive(Debug, Default)]
pub struct PhiReach {
    receipts: AddressMap<String, Receipt>,
}

/// One flow between two resources of the scan.
struct Edge {
    to: usize,
    flow: &'static DataFlow,
    declared_by: usize,
}

/// The resources one end of a flow names.
#[derive(Default)]
struct Named {
    resources: Vec<usize>,
    /// A literal that names a declared PHI source outside this configuration.
    phi_literal: Option<String>,
    /// Whether some part of the end cannot be known before apply.
    unknown: bool,
}

impl PhiReach {
    /// Follows every flow of the project from the policy's PHI sources.
    pub fn compute(index: &Index, policy: &Policy) -> PhiReach {
        let resources = index.resources();
        let graph = Graph::build(index, policy);

        let mut receipts: AddressMap<String, Receipt> = AddressMap::default();
        let mut origin_of: Vec<Option<String>> = vec![None; resources.len()];
        let mut queue = VecDeque::new();

        let sources = runs::map_runs(resources, |start, run| {
            let is_source = |r: &Resource| r.mode == Mode::Managed && policy.is_phi_source(r);
            (start..start + run.len())
                .filter(|&i| is_source(&resources[i]))
                .collect::<Vec<usize>>()
        });
        for i in sources.into_iter().flatten() {
            origin_of[i] = Some(resources[i].address.clone());
            queue.push_back((i, 0));
        }
        for (to, literal, flow, declared_by) in &graph.literal_arrivals {
            if origin_of[*to].is_none() {
                origin_of[*to] = Some(literal.clone());
                receipts.insert(
                    resources[*to].address.clone(),
                    Receipt::Receives(Arrival {
                        origin: literal.clone(),
                        from: literal.clone(),
                        kind: flow.kind,
                        declared_by: resources[*declared_by].address.clone(),
                        hops: 1,
                    }),
                );
                queue.push_back((*to, 1));
            }
        }

        while let Some((i, hops)) = queue.pop_front() {
            let origin = origin_of[i].clone().unwrap_or_default();
            for edge in &graph.edges[i] {
                if origin_of[edge.to].is_some() {
                    continue;
                }
                origin_of[edge.to] = Some(origin.clone());
                receipts.insert(
                    resources[edge.to].address.clone(),
                    Receipt::Receives(Arrival {
                        origin: origin.clone(),
                        from: resources[i].address.clone(),
                        kind: edge.flow.kind,
                        declared_by: resources[edge.declared_by].address.clone(),
                        hops: hops + 1,
                    }),
                );
                queue.push_back((edge.to, hops + 1));
            }
        }

        // Resources PHI may reach through a flow whose source is unknown, and everything
        // downstream of them, unless PHI is known to reach them anyway.
        let mut maybe = vec![false; resources.len()];
        let mut queue: VecDeque<usize> = VecDeque::new();
        for (to, flow, declared_by) in &graph.unknown_arrivals {
            if origin_of[*to].is_none() && !maybe[*to] {
                maybe[*to] = true;
                receipts.insert(
                    resources[*to].address.clone(),
                    Receipt::Maybe {
                        declared_by: resources[*declared_by].address.clone(),
                        kind: flow.kind,
                    },
                );
                queue.push_back(*to);
            }
        }
        while let Some(i) = queue.pop_front() {
            for edge in &graph.edges[i] {
                if origin_of[edge.to].is_some() || maybe[edge.to] {
                    continue;
                }
                maybe[edge.to] = true;
                receipts.insert(
                    resources[edge.to].address.clone(),
                    Receipt::Maybe {
                        declared_by: resources[edge.declared_by].address.clone(),
                        kind: edge.flow.kind,
                    },
                );
                queue.push_back(edge.to);
            }
        }

        PhiReach { receipts }
    }

    /// How PHI reaches a resource along data flows, if it does.
    pub fn receipt(&self, resource: &Resource) -> Option<&Receipt> {
        self.receipts.get(&resource.address)
    }
}

/// The flows of one project as edges between resource indices.
struct Graph {
    edges: Vec<Vec<Edge>>,
    /// Flows from a PHI source named by a literal outside this configuration:
    /// (destination, literal, flow, declaring resource).
    literal_arrivals: Vec<(usize, String, &'static DataFlow, usize)>,
    /// Flows from a source that cannot be known: (destination, flow, declaring resource).
    unknown_arrivals: Vec<(usize, &'static DataFlow, usize)>,
}

/// The part of the graph the flows declared by one run of resources make.
#[derive(Default)]
struct GraphPart {
    /// (source, edge), in the order the flows were met.
    edges: Vec<(usize, Edge)>,
    literal_arrivals: Vec<(usize, String, &'static DataFlow, usize)>,
    unknown_arrivals: Vec<(usize, &'static DataFlow, usize)>,
}

impl Graph {
    fn build(index: &Index, policy: &Policy) -> Graph {
        let resources = index.resources();
        let names = Names::build(resources);
        let parts = runs::map_runs(resources, |start, run| {
            let mut part = GraphPart::default();
            for (offset, resource) in run.iter().enumerate() {
                add_flows(&mut part, &names, index, policy, start + offset, resource);
            }
            part
        });

        // Parts in run order, so that the graph is the same however the work was split.
        let mut graph = Graph {
            edges: (0..resources.len()).map(|_| Vec::new()).collect(),
            literal_arrivals: Vec::new(),
            unknown_arrivals: Vec::new(),
        };
        for part in parts {
            for (from, edge) in part.edges {
                graph.edges[from].push(edge);
            }
            graph.literal_arrivals.extend(part.literal_arrivals);
            graph.unknown_arrivals.extend(part.unknown_arrivals);
        }
        graph
    }
}

/// Adds the flows `resource` (at `i`) declares.
fn add_flows(
    part: &mut GraphPart,
    names: &Names,
    index: &Index,
    policy: &Policy,
    i: usize,
    resource: &Resource,
) {
    if resource.mode != Mode::Managed {
        return;
    }
    for flow in dataflow::flows_of(&resource.resource_type) {
        let sources = names.named(index, policy, i, resource, &flow.source);
        let destinations = names.named(index, policy, i, resource, &flow.destination);

        for &to in &destinations.resources {
            for &from in &sources.resources {
                if from != to {
                    let edge = Edge {
                        to,
                        flow,
                        declared_by: i,
                    };
                    part.edges.push((from, edge));
                }
            }
            if let Some(literal) = &sources.phi_literal {
                part.literal_arrivals.push((to, literal.clone(), flow, i));
            }
            if sources.unknown {
                part.unknown_arrivals.push((to, flow, i));
            }
        }
    }
}

/// Managed resources by address and by the literal names others may use for them.
struct Names<'a> {
    resources: &'a [Resource],
    by_address: AddressMap<&'a str, usize>,
    /// Made the first time a flow's end holds a literal name rather than a reference: reading
    /// every resource's name attributes costs a walk over all their values, and configurations
    /// that name other resources only by reference never need it.
    by_literal: OnceLock<LiteralNames<'a>>,
}

/// Managed resources by the literal names others may use for them. The names are borrowed from
/// the resources' values; only the ARNs made of bucket names are built.
type LiteralNames<'a> = AddressMap<Cow<'a, str>, Vec<usize>>;

impl<'a> Names<'a> {
    fn build(resources: &'a [Resource]) -> Names<'a> {
        let mut by_address =
            AddressMap::with_capacity_and_hasher(resources.len(), Default::default());
        for (i, resource) in resources.iter().enumerate() {
            if resource.mode == Mode::Managed {
                by_address.insert(resource.address.as_str(), i);
            }
        }
        Names {
            resources,
            by_address,
            by_literal: OnceLock::new(),
        }
    }

    fn by_literal(&self) -> &LiteralNames<'a> {
        self.by_literal.get_or_init(|| {
            let mut by_literal = LiteralNames::default();
            for (i, resource) in self.resources.iter().enumerate() {
                if resource.mode != Mode::Managed {
                    continue;
                }
                for attribute in NAME_ATTRIBUTES {
                    if let Some(name) = resource.attr(attribute).as_str() {
                        add_name(&mut by_literal, Cow::Borrowed(name), i);
                    }
                }
                if resource.resource_type == "aws_s3_bucket" {
                    if let Some(bucket) = resource.attr("bucket").as_str() {
                        let arn = format!("{S3_ARN_PREFIX}{bucket}");
                        add_name(&mut by_literal, Cow::Owned(arn), i);
                    }
                }
            }
            by_literal
        })
    }

    /// The resources one end of a flow declared by `resource` (at `i`) names.
    fn named(
        &self,
        index: &Index,
        policy: &Policy,
        i: usize,
        resource: &Resource,
        endpoint: &Endpoint,
    ) -> Named {
        let mut named = Named::default();
        let Endpoint::Attribute { path, types } = *endpoint else {
            named.resources.push(i);
            return named;
        };
        let of_type =
            |target: &Resource| types.is_empty() || types.contains(&target.resource_type.as_str());

        for reference in resource.references_of(path) {
            for target in index.resolve(reference) {
                if !of_type(target) {
                    continue;
                }
                if let Some(&j) = self.by_address.get(target.address.as_str()) {
                    named.resources.push(j);
                }
            }
        }
        if !named.resources.is_empty() {
            named.resources.sort_unstable();
            named.resources.dedup();
            return named;
        }

        for value in resource.lookup(path) {
            let literals: Vec<&Value> = match value {
                Value::List(items) => items.iter().collect(),
                other => vec![other],
            };
            for literal in literals {
                match literal {
                    Value::String(name) => {
                        self.match_literal(policy, index.resources(), name, types, &mut named)
                    }
                    Value::Null => {}
                    _ => named.unknown = true,
                }
            }
        }
        named.resources.sort_unstable();
        named.resources.dedup();
        named
    }

    fn match_literal(
        &self,
        policy: &Policy,
        resources: &[Resource],
        name: &str,
        types: &[&str],
        named: &mut Named,
    ) {
        let unique = UNIQUE_NAME_PREFIXES
            .iter()
            .any(|prefix| name.starts_with(prefix));
        if types.is_empty() && !unique {
            return;
        }
        let found: Vec<usize> = self
            .by_literal()
            .get(name)
            .map(|candidates| {
                candidates
                    .iter()
                    .copied()
                    .filter(|&j| {
                        types.is_empty() || types.contains(&resources[j].resource_type.as_str())
                    })
                    .collect()
            })
            .unwrap_or_default();
        if found.is_empty() {
            // A bucket outside the configuration may be declared by ARN and named by bare name.
            let as_bucket_arn = (types.contains(&"aws_s3_bucket") && !name.starts_with("arn:"))
                .then(|| format!("{S3_ARN_PREFIX}{name}"));
            named.phi_literal = std::iter::once(name.to_string())
                .chain(as_bucket_arn)
                .find(|literal| policy.phi_source_literals.contains(literal));
        }
        named.resources.extend(found);
    }
}

fn add_name<'a>(by_literal: &mut LiteralNames<'a>, name: Cow<'a, str>, i: usize) {
    let slot = by_literal.entry(name).or_default();
    // Names are added in resource order, so a repeat can only be the last entry.
    if slot.last() != Some(&i) {
        slot.push(i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Project;
    use crate::rules::testing::{resource, with_reference};
    use serde_json::json;

    fn reach(resources: Vec<Resource>) -> (Project, Vec<(String, Option<Receipt>)>) {
        let project = Project {
            resources,
            ..Project::default()
        };
        let index = Index::build(&project);
        let policy = Policy::from_project(&project, &index);
        let reach = PhiReach::compute(&index, &policy);
        let receipts = project
            .resources
            .iter()
            .map(|r| (r.address.clone(), reach.receipt(r).cloned()))
            .collect();
        (project, receipts)
    }

    fn receipt<'a>(
        receipts: &'a [(String, Option<Receipt>)],
        address: &str,
    ) -> Option<&'a Receipt> {
        receipts
            .iter()
            .find(|(a, _)| a == address)
            .and_then(|(_, r)| r.as_ref())
    }

    fn replication(name: &str, from: &str, to: &str) -> Resource {
        with_reference(
            with_reference(
                resource(
                    "aws_s3_bucket_replication_configuration",
                    name,
                    json!({"rule": [{"destination": [{}]}]}),
                ),
                "bucket",
                from,
                "id",
            ),
            "rule.destination.bucket",
            to,
            "arn",
        )
    }

    #[test]
    fn a_chain_longer_than_one_thread_takes_is_followed_to_its_end() {
        // Enough buckets that the graph is built on several threads, with each replication
        // declared far from the bucket it starts at (declarations after all the buckets).
        let count = runs::ITEMS_PER_THREAD + 50;
        let bucket = |i: usize| resource("aws_s3_bucket", &format!("b{i}"), json!({}));
        let mut resources: Vec<Resource> = (0..count).map(bucket).collect();
        resources.extend((1..count).rev().map(|i| {
            let from = format!("aws_s3_bucket.b{}", i - 1);
            replication(&format!("r{i}"), &from, &format!("aws_s3_bucket.b{i}"))
        }));
        resources.push(with_reference(
            resource("hipaa_phi_system", "first", json!({"name": "first"})),
            "resource",
            "aws_s3_bucket.b0",
            "arn",
        ));

        let (_, receipts) = reach(resources);
        let last = format!("aws_s3_bucket.b{}", count - 1);
        match receipt(&receipts, &last) {
            Some(Receipt::Receives(arrival)) => {
                assert_eq!(arrival.origin, "aws_s3_bucket.b0");
                assert_eq!(arrival.from, format!("aws_s3_bucket.b{}", count - 2));
                assert_eq!(arrival.hops, count - 1);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_cycle_of_replications_ends_and_marks_each_bucket_once() {
        let system = with_reference(
            resource("hipaa_phi_system", "a", json!({"name": "a"})),
            "resource",
            "aws_s3_bucket.a",
            "arn",
        );
        let (_, receipts) = reach(vec![
            system,
            resource("aws_s3_bucket", "a", json!({"bucket": "a"})),
            resource("aws_s3_bucket", "b", json!({"bucket": "b"})),
            replication("ab", "aws_s3_bucket.a", "aws_s3_bucket.b"),
            replication("ba", "aws_s3_bucket.b", "aws_s3_bucket.a"),
        ]);
        let Some(Receipt::Receives(arrival)) = receipt(&receipts, "aws_s3_bucket.b") else {
            panic!("b receives nothing: {receipts:?}");
        };
        assert_eq!(arrival.origin, "aws_s3_bucket.a");
        assert_eq!(arrival.hops, 1);
        // The source is where PHI starts; it does not "receive" it back.
        assert_eq!(receipt(&receipts, "aws_s3_bucket.a"), None);
    }

    #[test]
    fn a_phi_source_outside_the_configuration_is_followed_by_its_arn() {
        let system = resource(
            "hipaa_phi_system",
            "legacy",
            json!({"name": "legacy", "resource": "arn:aws:s3:::legacy-records"}),
        );
        let inbound = with_reference(
            resource(
                "aws_s3_bucket_replication_configuration",
                "legacy",
                json!({"bucket": "legacy-records", "rule": [{"destination": [{}]}]}),
            ),
            "rule.destination.bucket",
            "aws_s3_bucket.copy",
            "arn",
        );
        // The source bucket is declared by ARN and named by its bare name.
        let (_, receipts) = reach(vec![
            system.clone(),
            resource("aws_s3_bucket", "copy", json!({"bucket": "copy"})),
            inbound,
        ]);
        let Some(Receipt::Receives(arrival)) = receipt(&receipts, "aws_s3_bucket.copy") else {
            panic!("the copy receives nothing: {receipts:?}");
        };
        assert_eq!(arrival.origin, "arn:aws:s3:::legacy-records");

        let by_arn = with_reference(
            resource(
                "aws_lambda_event_source_mapping",
                "legacy",
                json!({"event_source_arn": "arn:aws:s3:::legacy-records"}),
            ),
            "function_name",
            "aws_lambda_function.reader",
            "arn",
        );
        let (_, receipts) = reach(vec![
            system,
            resource(
                "aws_lambda_function",
                "reader",
                json!({"function_name": "reader"}),
            ),
            by_arn,
        ]);
        let Some(Receipt::Receives(arrival)) = receipt(&receipts, "aws_lambda_function.reader")
        else {
            panic!("the function receives nothing: {receipts:?}");
        };
        assert_eq!(arrival.origin, "arn:aws:s3:::legacy-records");
        assert_eq!(arrival.kind, "event delivery");
    }

    #[test]
    fn bare_names_match_only_the_types_a_flow_allows() {
        let boundary = with_reference(
            resource("hipaa_boundary", "b", json!({"name": "b"})),
            "members",
            "aws_db_instance.ehr",
            "arn",
        );
        // A table that happens to share the instance's name is not its replica source.
        let (_, receipts) = reach(vec![
            boundary,
            resource("aws_db_instance", "ehr", json!({"identifier": "ehr"})),
            resource("aws_dynamodb_table", "ehr", json!({"name": "ehr"})),
            resource(
                "aws_db_instance",
                "replica",
                json!({"identifier": "replica", "replicate_source_db": "ehr"}),
            ),
        ]);
        assert!(matches!(
            receipt(&receipts, "aws_db_instance.replica"),
            Some(Receipt::Receives(_))
        ));
        assert_eq!(receipt(&receipts, "aws_dynamodb_table.ehr"), None);
    }
}
