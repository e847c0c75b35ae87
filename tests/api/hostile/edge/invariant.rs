//! The edge invariant, tested with random requests against a live edgepass.
//!
//! Bytes of object X come back only if X is public, or the verifier (with the service's keys, at the same
//! time) allows the URL that names exactly X — `{CDN base URL}/{key of X}` followed by the request's
//! signing parameters — with the request's cookies.
//!
//! The requests are what a hostile client can send: any `Host` (with `/`, `?`, `@`, `#`, or none), origin
//! or absolute form, paths with random percent-encodings, dot segments and other users' prefixes,
//! repeated parameters, and signed-URL queries and cookie sets that real API answers minted for other
//! objects and users. Every object's bytes are unique, so the body of an answer names the object served.
//! One edgepass serves every case of a test.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicUsize, Ordering};

use edgepass::signing::{RESERVED_QUERY_PARAMETERS, ViewerRequest, verify};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};

use super::{EdgeRequest, Person, edge_host, holds, spawn, unique_png};
use crate::helpers::{RawReply, TestApp};

/// Random requests sent to each world: enough to find the `Host` bypass on the old edge many times over,
/// few enough to run in seconds in a debug build.
const CASES: u32 = 300;

/// How one user's images are set up.
#[derive(Clone, Debug)]
struct ImagePlan {
    /// Made public before the links and URLs are handed out.
    public: bool,
    /// Made private again afterwards (its key moves back under `users/`).
    private_again: bool,
    /// Users it is shared with (indices, taken modulo the number of users; the owner is skipped).
    shared_with: Vec<usize>,
    /// Whether it gets a share link, followed by a stranger.
    link: bool,
    /// Whether the link and the shares are revoked after the URLs were handed out.
    revoke: bool,
}

/// Who exists and what they own.
#[derive(Clone, Debug)]
struct Plan {
    users: Vec<Vec<ImagePlan>>,
}

impl Plan {
    /// The review's setup: Alice's private images (one with a share link that is then revoked, one that
    /// went public and back to private), Bob with his own cookies and one image.
    fn alice_and_bob() -> Self {
        let private = ImagePlan {
            public: false,
            private_again: false,
            shared_with: vec![],
            link: false,
            revoke: false,
        };
        Self {
            users: vec![
                vec![
                    ImagePlan {
                        link: true,
                        revoke: true,
                        ..private.clone()
                    },
                    ImagePlan {
                        link: true,
                        ..private.clone()
                    },
                    ImagePlan {
                        public: true,
                        private_again: true,
                        ..private.clone()
                    },
                ],
                vec![private],
            ],
        }
    }

    fn random() -> impl Strategy<Value = Self> {
        let image = (
            prop::bool::weighted(0.3),
            any::<bool>(),
            prop::collection::vec(0usize..5, 0..3),
            prop::bool::weighted(0.4),
            prop::bool::weighted(0.3),
        )
            .prop_map(|(public, private_again, shared_with, link, revoke)| ImagePlan {
                public,
                private_again,
                shared_with,
                link,
                revoke,
            });
        prop::collection::vec(prop::collection::vec(image, 1..=3), 3..=5).prop_map(|users| Self { users })
    }
}

/// An object in the store and the bytes only it has.
#[derive(Debug)]
struct Object {
    key: String,
    bytes: Vec<u8>,
}

/// A live edgepass set up after a plan, and what its API handed out.
struct World {
    app: TestApp,
    plan: Plan,
    user_ids: Vec<i64>,
    objects: Vec<Object>,
    /// Each user's CloudFront cookies as their browser sends them to their own prefix.
    cookie_sets: Vec<String>,
    /// Signed and public URLs from `POST /api/urls` and from following share links.
    urls: Vec<String>,
}

impl World {
    async fn build(plan: Plan) -> Self {
        let app = spawn().await;
        let mut people = Vec::new();
        for user in 0..plan.users.len() {
            people.push(Person::sign_up(&app, &format!("user{user}@example.com")).await);
        }
        let mut urls = Vec::new();
        let mut images = Vec::new();
        for (owner, image_plans) in plan.users.iter().enumerate() {
            for (n, image_plan) in image_plans.iter().enumerate() {
                let person = &people[owner];
                let image = person.upload(&app, &unique_png(&format!("{owner}-{n}"))).await;
                if image_plan.public {
                    person.set_visibility(&app, &image.id, "public").await;
                }
                let mut grantees = Vec::new();
                for with in &image_plan.shared_with {
                    let with = with % people.len();
                    if with != owner && !grantees.contains(&with) {
                        person.share(&app, &image.id, &people[with].email).await;
                        grantees.push(with);
                    }
                }
                let link = if image_plan.link {
                    let (link, location) = person.link(&app, &image.id).await;
                    urls.push(location);
                    Some(link)
                } else {
                    None
                };
                images.push((owner, n, image, grantees, link));
            }
        }
        let ids: Vec<&str> = images
            .iter()
            .map(|(_, _, image, _, _)| image.id.as_str())
            .collect();
        for person in &people {
            urls.extend(person.urls(&app, &ids).await);
        }
        let mut objects = Vec::new();
        for (owner, n, image, grantees, link) in &images {
            let image_plan = &plan.users[*owner][*n];
            let person = &people[*owner];
            if image_plan.public && image_plan.private_again {
                person.set_visibility(&app, &image.id, "private").await;
            }
            if image_plan.revoke {
                if let Some(link) = link {
                    person.revoke_link(&app, *link).await;
                }
                for with in grantees {
                    person.unshare(&app, &image.id, &people[*with].email).await;
                }
            }
            let path = person.path_of(&app, &image.id).await;
            objects.push(Object {
                key: path.trim_start_matches('/').to_owned(),
                bytes: image.bytes.clone(),
            });
        }
        let cookie_sets = people.iter().map(|person| person.own_cookies(&app)).collect();
        Self {
            user_ids: people.iter().map(|person| person.id).collect(),
            app,
            plan,
            objects,
            cookie_sets,
            urls,
        }
    }

    /// The object whose bytes are in `body`, if any.
    fn served(&self, body: &[u8]) -> Option<&Object> {
        self.objects.iter().find(|object| holds(body, &object.bytes))
    }

    /// Whether the verifier allows the URL that names exactly `object`, with the signing parameters of
    /// `request`'s query and its cookies, under the service's keys and time.
    fn allows(&self, object: &Object, request: &EdgeRequest) -> bool {
        let query = query_of(&request.target);
        let signing: Vec<&str> = query
            .map(|query| {
                query
                    .split('&')
                    .filter(|pair| {
                        let name = pair.split_once('=').map_or(*pair, |(name, _)| name);
                        RESERVED_QUERY_PARAMETERS.contains(&name)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut url = format!("{}/{}", self.app.state.bound.cdn_base_url, object.key);
        if !signing.is_empty() {
            url.push('?');
            url.push_str(&signing.join("&"));
        }
        let cookies = request.cookie_pairs();
        let viewer = ViewerRequest {
            url: &url,
            cookies: &cookies,
            viewer_ip: Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            now: self.app.now(),
        };
        verify(self.app.state.cdn.keys(), &viewer).is_ok()
    }
}

/// The query of a request target (origin or absolute form), as the edge reads it.
fn query_of(target: &str) -> Option<&str> {
    let path_and_query = if target.starts_with('/') {
        target
    } else {
        let rest = target.split_once("://").map_or(target, |(_, rest)| rest);
        &rest[rest.find(['/', '?']).unwrap_or(rest.len())..]
    };
    path_and_query.split_once('?').map(|(_, query)| query)
}

/// The random choices behind one request; they are read against a world, modulo its sizes.
#[derive(Clone, Debug)]
struct Draw {
    object: usize,
    path_form: u8,
    encode: u64,
    lower_hex: bool,
    other_user: usize,
    query_form: u8,
    url: usize,
    repeat: usize,
    absolute: Option<String>,
    host_form: u8,
    junk: String,
    cookie_form: u8,
    cookie_sets: Vec<usize>,
}

fn draws() -> impl Strategy<Value = Draw> {
    (
        (
            any::<usize>(),
            0u8..6,
            any::<u64>(),
            any::<bool>(),
            any::<usize>(),
        ),
        (0u8..6, any::<usize>(), any::<usize>()),
        prop::option::weighted(0.25, "[a-z0-9.@:-]{1,16}"),
        (0u8..7, "[a-z0-9/?@#:.&=%-]{0,12}"),
        (0u8..5, prop::collection::vec(any::<usize>(), 1..4)),
    )
        .prop_map(
            |(
                (object, path_form, encode, lower_hex, other_user),
                (query_form, url, repeat),
                absolute,
                (host_form, junk),
                (cookie_form, cookie_sets),
            )| Draw {
                object,
                path_form,
                encode,
                lower_hex,
                other_user,
                query_form,
                url,
                repeat,
                absolute,
                host_form,
                junk,
                cookie_form,
                cookie_sets,
            },
        )
}

/// `text` with the characters whose bit is set in `mask` percent-encoded.
fn percent_encode(text: &str, mask: u64, lower_hex: bool) -> String {
    text.bytes()
        .enumerate()
        .map(|(i, b)| match (mask >> (i % 64)) & 1 {
            1 if lower_hex => format!("%{b:02x}"),
            1 => format!("%{b:02X}"),
            _ => (b as char).to_string(),
        })
        .collect()
}

impl World {
    /// The request `draw` describes.
    fn request(&self, draw: &Draw) -> EdgeRequest {
        let object = &self.objects[draw.object % self.objects.len()];
        let other = self.user_ids[draw.other_user % self.user_ids.len()];
        let path = match draw.path_form {
            0 | 1 => format!("/{}", object.key),
            2 => format!("/{}", percent_encode(&object.key, draw.encode, draw.lower_hex)),
            3 => {
                let dots = ["..", "%2e%2e", "%2E.", "..%2F"][(draw.encode % 4) as usize];
                format!("/users/{other}/{dots}/{}", object.key)
            }
            4 => format!("/users/{other}/{}", object.key),
            _ => format!("//{}", object.key),
        };
        let signed = &self.urls[draw.url % self.urls.len()];
        let signed_query = signed.split_once('?').map_or("", |(_, query)| query);
        // A signed URL for this very object, when the API handed one out.
        let own_urls: Vec<&String> = self
            .urls
            .iter()
            .filter(|url| url.contains(&format!("/{}?", object.key)))
            .collect();
        let own_query = (!own_urls.is_empty())
            .then(|| own_urls[draw.repeat % own_urls.len()])
            .and_then(|url| url.split_once('?'))
            .map(|(_, query)| query);
        let query = match draw.query_form {
            0 => None,
            1 => Some(signed_query.to_owned()),
            2 => own_query.map(str::to_owned),
            3 => {
                // One signing parameter named again, with a value from another signed URL or none.
                let name = RESERVED_QUERY_PARAMETERS[draw.repeat % RESERVED_QUERY_PARAMETERS.len()];
                let value = signed_query
                    .split('&')
                    .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
                    .unwrap_or("");
                let base = own_query.unwrap_or(signed_query);
                Some(match draw.encode % 2 {
                    0 => format!("{base}&{name}={value}"),
                    _ => format!("{name}={value}&{base}"),
                })
            }
            4 => Some(format!(
                "{}&{signed_query}",
                draw.junk.replace(['#', '/', '?'], "")
            )),
            _ => own_query.map(|query| {
                let mut pairs: Vec<&str> = query.split('&').collect();
                pairs.remove(draw.repeat % pairs.len());
                pairs.join("&")
            }),
        };
        let origin_form = match query {
            Some(query) => format!("{path}?{query}"),
            None => path,
        };
        let target = match &draw.absolute {
            Some(authority) => format!("http://{authority}{origin_form}"),
            None => origin_form,
        };
        let cookie_owner = draw.cookie_sets[0] % self.user_ids.len();
        let edge = edge_host(&self.app);
        let host = match draw.host_form {
            0 => Some(edge),
            1 => Some(format!("{edge}/users/{other}/{}", draw.junk)),
            2 => Some(format!("{edge}/users/{}/", self.user_ids[cookie_owner])),
            3 => signed
                .split_once("://")
                .map(|(_, rest)| format!("{rest}&Expires={}", draw.junk)),
            4 => Some(format!("{edge}{}", draw.junk)),
            5 => Some(draw.junk.clone()),
            _ => None,
        };
        let cookie = match draw.cookie_form {
            0 => None,
            1 | 2 => Some(self.cookie_sets[cookie_owner].clone()),
            3 => Some(
                draw.cookie_sets
                    .iter()
                    .map(|set| self.cookie_sets[set % self.cookie_sets.len()].as_str())
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            _ => {
                // One pair from each chosen set: a cookie set stitched together from several.
                let pairs: Vec<&str> = draw
                    .cookie_sets
                    .iter()
                    .enumerate()
                    .filter_map(|(i, set)| {
                        let pairs: Vec<&str> = self.cookie_sets[set % self.cookie_sets.len()]
                            .split("; ")
                            .collect();
                        pairs.get((i + draw.repeat) % pairs.len()).copied()
                    })
                    .collect();
                Some(pairs.join("; "))
            }
        };
        EdgeRequest { target, host, cookie }
    }
}

/// What the run saw, so a run that never served anything (a generator gone blind) fails too.
#[derive(Default)]
struct Tally {
    served: AtomicUsize,
    refused: AtomicUsize,
}

/// Builds the world `plan` describes and sends it [`CASES`] random requests, checking the invariant on
/// every answer.
fn check_the_invariant(runtime: &tokio::runtime::Runtime, plan: Plan, runner: &mut TestRunner) {
    let world = runtime.block_on(World::build(plan));
    let tally = Tally::default();
    let result = runner.run(&draws(), |draw| {
        let request = world.request(&draw);
        let reply: RawReply = runtime.block_on(request.send(&world.app));
        match world.served(&reply.body) {
            Some(object) => {
                tally.served.fetch_add(1, Ordering::Relaxed);
                prop_assert!(
                    object.key.starts_with("public/") || world.allows(object, &request),
                    "{} came back ({}) for {request:?}, but the URL naming it is not allowed",
                    object.key,
                    reply.status
                );
            }
            None => {
                tally.refused.fetch_add(1, Ordering::Relaxed);
            }
        }
        Ok(())
    });
    if let Err(failure) = result {
        panic!(
            "{failure}\nplan: {:?}\nusers: {:?}\nobjects: {:?}",
            world.plan,
            world.user_ids,
            world.objects.iter().map(|o| &o.key).collect::<Vec<_>>()
        );
    }
    let (served, refused) = (tally.served.into_inner(), tally.refused.into_inner());
    eprintln!("edge invariant: {served} answers carried an object's bytes, {refused} did not");
    assert!(
        served > 0 && refused > 0,
        "served {served}, refused {refused}: the requests should include both"
    );
    drop(world);
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
}

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    })
}

#[test]
fn only_the_url_naming_exactly_the_served_object_decides_in_the_reviews_setup() {
    let runtime = runtime();
    check_the_invariant(&runtime, Plan::alice_and_bob(), &mut runner());
}

#[test]
fn only_the_url_naming_exactly_the_served_object_decides_for_random_users_and_images() {
    let runtime = runtime();
    let mut runner = runner();
    let plan = Plan::random().new_tree(&mut runner).expect("a plan").current();
    check_the_invariant(&runtime, plan, &mut runner);
}
