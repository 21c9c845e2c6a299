//! Counterexample → message-sequence chart: one line per protocol message
//! (sender → receiver, endpoint, the fields that matter, draft section), as text and as
//! a Mermaid `sequenceDiagram`.

use crate::hub::label_name;
use crate::model::MimiModel;
use crate::state::{Action, Handshake, Item, Msg, Op, State, Target};
use stateright::Model;

/// One chart line.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct MscLine {
    /// Sender.
    pub from: String,
    /// Receiver.
    pub to: String,
    /// Endpoint or local step.
    pub endpoint: String,
    /// Fields that matter.
    pub fields: String,
    /// Draft section.
    pub section: String,
}

impl MscLine {
    /// Text rendering.
    pub fn text(&self) -> String {
        format!(
            "{} -> {}: {} {} [{}]",
            self.from, self.to, self.endpoint, self.fields, self.section
        )
    }
}

fn l(from: String, to: String, endpoint: &str, fields: String, section: &str) -> MscLine {
    MscLine {
        from,
        to,
        endpoint: endpoint.to_string(),
        fields,
        section: section.to_string(),
    }
}

fn ops_text(m: &MimiModel, ops: &[Op]) -> String {
    let cfg = &m.cfg;
    let t = |x: &Target, i: &u8| match x {
        Target::User(u) => cfg.user_name(*u).to_string(),
        Target::Index(k) => format!("#{k}(meant {})", cfg.user_name(*i)),
    };
    ops.iter()
        .map(|o| match o {
            Op::PlAdd { user, role } => format!("+{}:r{}", cfg.user_name(*user), role),
            Op::PlRemove { target, intended } => format!("-{}", t(target, intended)),
            Op::PlSetRole {
                target,
                intended,
                role,
            } => format!("{}->r{}", t(target, intended), role),
            Op::MlsAdd { kp } => format!("Add({}/kp{})", cfg.client_name(kp.client), kp.serial),
            Op::MlsRemove { client } => format!("Remove({})", cfg.client_name(*client)),
            Op::SetRoles(v) => format!("roles={v}"),
            Op::SetPreauth(v) => format!("preauth={v}"),
            Op::SetBase(v) => format!("base={v}"),
            Op::SetMeta(v) => format!("meta={v}"),
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn hs_text(m: &MimiModel, hs: &Handshake) -> String {
    match hs {
        Handshake::Commit(c) => format!(
            "Commit[{}{}{}] by {} epoch={} byRef={:?} ops=[{}]",
            label_name(c.label),
            if c.external { ",external" } else { "" },
            if c.real_cred { ",real-credential" } else { "" },
            m.cfg.client_name(c.committer),
            c.epoch,
            c.by_ref,
            ops_text(m, &c.ops)
        ),
        Handshake::Proposal(p) => format!(
            "Proposals by {} epoch={} [{}]",
            p.sender
                .map(|c| m.cfg.client_name(c))
                .unwrap_or_else(|| "hub".into()),
            p.epoch,
            ops_text(m, &p.ops)
        ),
    }
}

fn item_text(m: &MimiModel, it: &Item) -> String {
    match it {
        Item::Commit { commit, stapled } => {
            format!(
                "{} stapled={}",
                hs_text(m, &Handshake::Commit(commit.clone())),
                stapled.len()
            )
        }
        Item::Proposal(p) => format!(
            "id={} {}",
            p.id,
            hs_text(m, &Handshake::Proposal(p.clone()))
        ),
        Item::App { msg, uri } => format!(
            "Message id={} epoch={}{}",
            msg.id,
            msg.epoch,
            uri.map(|u| format!(" sendingUri={}", m.cfg.user_name(u)))
                .unwrap_or_default()
        ),
        Item::Welcome { clients, epoch, .. } => format!(
            "Welcome for [{}] epoch={}",
            clients
                .iter()
                .map(|c| m.cfg.client_name(*c))
                .collect::<Vec<_>>()
                .join(","),
            epoch
        ),
    }
}

/// Short label of an action (Explorer and logs).
pub fn action_label(m: &MimiModel, a: &Action) -> String {
    let cfg = &m.cfg;
    match a {
        Action::Create => "create room".into(),
        Action::Fetch { client, target } => format!(
            "{} fetches KeyPackages of {}",
            cfg.client_name(*client),
            cfg.user_name(*target)
        ),
        Action::Commit {
            client,
            op,
            real_cred,
        } => format!(
            "{} commits {:?}{}",
            cfg.client_name(*client),
            op,
            if *real_cred { " (real credential)" } else { "" }
        ),
        Action::Consent {
            client,
            requester,
            grant,
        } => format!(
            "{} {} consent for {}",
            cfg.client_name(*client),
            if *grant { "grants" } else { "revokes" },
            cfg.user_name(*requester)
        ),
        Action::Leave { client } => format!("{} leaves", cfg.client_name(*client)),
        Action::GroupInfo { client } => format!("{} requests GroupInfo", cfg.client_name(*client)),
        Action::ExternalJoin { client } => format!("{} external join", cfg.client_name(*client)),
        Action::Send { client, claimed } => format!(
            "{} sends message as {}",
            cfg.client_name(*client),
            cfg.user_name(*claimed)
        ),
        Action::Deliver(i) => format!("deliver #{i}"),
        Action::DeliverEquivocating(i, v) => format!(
            "deliver #{i} (hub equivocates to {})",
            cfg.provider_name(*v)
        ),
        Action::Drop(i) => format!("lose #{i}"),
        Action::Retry(k, r) => format!(
            "hub retries outbox #{k}{}",
            if *r { " (re-batched)" } else { "" }
        ),
        Action::Restart(f) => format!("{} restarts", cfg.provider_name(*f)),
        Action::Duplicate(i) => format!("duplicate #{i}"),
        Action::InRoom(r, a) => format!("[room {r}] {}", action_label(m, a)),
    }
}

/// Chart lines for one step: the protocol message(s) the action sends or delivers.
pub fn step_lines(m: &MimiModel, last: &State, a: &Action) -> Vec<MscLine> {
    if m.cfg.raw.rooms > 1 {
        // every line names the room its endpoint path carries ({roomId})
        let (r, inner, st) = match a {
            Action::InRoom(r, inner) => (*r, inner.as_ref(), crate::state::in_room(last, *r)),
            other => (0, other, last.clone()),
        };
        let mut lines = room_step_lines(m, &st, inner);
        for x in &mut lines {
            x.fields = format!("roomId=r{r} {}", x.fields);
        }
        return lines;
    }
    room_step_lines(m, last, a)
}

fn room_step_lines(m: &MimiModel, last: &State, a: &Action) -> Vec<MscLine> {
    let cfg = &m.cfg;
    let hub = || cfg.provider_name(0);
    let pn = |p: u8| cfg.provider_name(p);
    let cn = |c: u8| {
        format!(
            "{}@{}",
            cfg.client_name(c),
            cfg.raw.providers[usize::from(cfg.client_provider(c))]
        )
    };
    match a {
        Action::InRoom(..) => vec![],
        Action::Create => vec![l(
            cn(0),
            pn(0),
            "[[create room]]",
            "creator=admin".into(),
            "protocol-06 §3.1",
        )],
        Action::Fetch { client, target } => {
            let rp = cfg.client_provider(*client);
            let tp = cfg.user_provider[usize::from(*target)];
            let f = format!(
                "requestingUser={} targetUser={} roomId",
                cfg.user_name(cfg.client_user[usize::from(*client)]),
                cfg.user_name(*target)
            );
            let req_u = cfg.client_user[usize::from(*client)];
            let refused = cfg.consent.is_some()
                && !last.consent.contains(&(req_u, *target))
                && !cfg.mutated(crate::mutations::Mutation::FollowerSkipsConsentCheck);
            let answer = if refused {
                "userStatus=noConsent, no clients"
            } else {
                "one-time KeyPackages reserved"
            };
            let mut v = vec![];
            if rp != 0 {
                v.push(l(
                    pn(rp),
                    hub(),
                    "POST /keyMaterial",
                    f.clone(),
                    "protocol-06 §5.2",
                ));
            }
            if tp != 0 {
                v.push(l(
                    hub(),
                    pn(tp),
                    "POST /keyMaterial",
                    f.clone(),
                    "protocol-06 §5.2",
                ));
                v.push(l(
                    pn(tp),
                    hub(),
                    "200 KeyMaterialResponse",
                    answer.into(),
                    "protocol-06 §5.2",
                ));
            }
            if rp != 0 {
                v.push(l(
                    hub(),
                    pn(rp),
                    "200 KeyMaterialResponse",
                    if refused {
                        answer.into()
                    } else {
                        "hub records KeyPackageRef→provider".to_string()
                    },
                    "protocol-06 §5.2",
                ));
            }
            if v.is_empty() {
                v.push(l(
                    cn(*client),
                    hub(),
                    "[[local key material]]",
                    f,
                    "protocol-06 §5.2",
                ));
            }
            v
        }
        Action::Commit {
            client,
            op,
            real_cred,
        } => match m.build_commit(last, *client, *op, *real_cred) {
            Some(c) => vec![l(
                cn(*client),
                pn(cfg.client_provider(*client)),
                if cfg.client_provider(*client) == 0 {
                    "[[local update]]"
                } else {
                    "[[submit commit]]"
                },
                hs_text(m, &Handshake::Commit(c)),
                "protocol-06 §5.3",
            )],
            None => vec![],
        },
        Action::Leave { client } => match m.build_leave(last, *client) {
            Some(p) => vec![l(
                cn(*client),
                pn(cfg.client_provider(*client)),
                if cfg.client_provider(*client) == 0 {
                    "[[local update]]"
                } else {
                    "[[submit proposals]]"
                },
                hs_text(m, &Handshake::Proposal(p)),
                "protocol-06 §3.5",
            )],
            None => vec![],
        },
        Action::Consent {
            client,
            requester,
            grant,
        } => {
            let tp = cfg.client_provider(*client);
            let rp = cfg.user_provider[usize::from(*requester)];
            let f = format!(
                "consentOperation={} requesterUri={} targetUri={}",
                if *grant { "grant" } else { "revoke" },
                cfg.user_name(*requester),
                cfg.user_name(cfg.client_user[usize::from(*client)])
            );
            if tp == rp {
                vec![l(
                    cn(*client),
                    pn(tp),
                    "[[local consent]]",
                    f,
                    "protocol-06 §5.7",
                )]
            } else {
                vec![l(
                    pn(tp),
                    pn(rp),
                    "POST /updateConsent",
                    f,
                    "protocol-06 §5.7",
                )]
            }
        }
        Action::GroupInfo { client } => vec![l(
            cn(*client),
            pn(cfg.client_provider(*client)),
            "[[request GroupInfo]]",
            String::new(),
            "protocol-06 §5.6",
        )],
        Action::ExternalJoin { client } => match m.build_external(last, *client) {
            Some(c) => vec![l(
                cn(*client),
                pn(cfg.client_provider(*client)),
                "[[external commit]]",
                hs_text(m, &Handshake::Commit(c)),
                "protocol-06 §3.6",
            )],
            None => vec![],
        },
        Action::Send { client, claimed } => vec![l(
            cn(*client),
            pn(cfg.client_provider(*client)),
            if cfg.client_provider(*client) == 0 {
                "[[local submitMessage]]"
            } else {
                "[[PrivateMessage]]"
            },
            format!("sendingUri={}", cfg.user_name(*claimed)),
            "protocol-06 §5.4",
        )],
        Action::Deliver(i) | Action::DeliverEquivocating(i, _) => {
            let Some(msg) = last.net.get(*i) else {
                return vec![];
            };
            let mut v = vec![msg_line(m, msg)];
            if let Action::DeliverEquivocating(_, victim) = a {
                v.push(l(
                    cfg.provider_name(0),
                    cfg.provider_name(*victim),
                    "!! equivocation",
                    "a different commit for this epoch".into(),
                    "protocol-06 §7.1",
                ));
            }
            if let Some(next) = m.next_state(last, a.clone()) {
                if next.violations != last.violations {
                    v.push(l(
                        hub(),
                        hub(),
                        "!! violation",
                        crate::properties::violation_names(next.violations & !last.violations)
                            .join(", "),
                        "-",
                    ));
                }
            }
            v
        }
        Action::Drop(i) => last
            .net
            .get(*i)
            .map(|x| {
                let mut ln = msg_line(m, x);
                ln.endpoint = format!("LOST {}", ln.endpoint);
                vec![ln]
            })
            .unwrap_or_default(),
        Action::Duplicate(i) => last
            .net
            .get(*i)
            .map(|x| {
                let mut ln = msg_line(m, x);
                ln.endpoint = format!("DUPLICATED {}", ln.endpoint);
                vec![ln]
            })
            .unwrap_or_default(),
        Action::Retry(k, _) => last
            .hub
            .outbox
            .get(*k)
            .map(|(to, b)| {
                vec![l(
                    hub(),
                    pn(*to),
                    "RETRY POST /notify",
                    format!("txn={} {}", b.txn, item_text(m, &b.item)),
                    "protocol-06 §5.5",
                )]
            })
            .unwrap_or_default(),
        Action::Restart(f) => vec![l(
            pn(*f),
            pn(*f),
            "[[restart]]",
            "dedup cache lost".into(),
            "protocol-06 §5.5",
        )],
    }
}

fn msg_line(m: &MimiModel, msg: &Msg) -> MscLine {
    let cfg = &m.cfg;
    let pn = |p: u8| cfg.provider_name(p);
    match msg {
        Msg::Update { from, hs } => l(
            pn(*from),
            pn(0),
            if *from == 0 {
                "[[local update]]"
            } else {
                "POST /update"
            },
            hs_text(m, hs),
            "protocol-06 §5.3",
        ),
        Msg::Submit { from, msg } => l(
            pn(*from),
            pn(0),
            if *from == 0 {
                "[[local submit]]"
            } else {
                "POST /submitMessage"
            },
            format!(
                "id={} epoch={} sendingUri={}",
                msg.id,
                msg.epoch,
                cfg.user_name(msg.claimed)
            ),
            "protocol-06 §5.4",
        ),
        Msg::GroupInfoReq { from, client } => l(
            pn(*from),
            pn(0),
            "POST /groupInfo",
            format!("credential={}", cfg.client_name(*client)),
            "protocol-06 §5.6",
        ),
        Msg::GroupInfoResp {
            to,
            client,
            ok,
            epoch,
        } => l(
            pn(0),
            pn(*to),
            "GroupInfoResponse",
            format!(
                "for {} {} epoch={}",
                cfg.client_name(*client),
                if *ok { "success" } else { "notAuthorized" },
                epoch
            ),
            "protocol-06 §5.6",
        ),
        Msg::Notify { to, body } => l(
            pn(0),
            pn(*to),
            "POST /notify",
            format!(
                "txn={} tag={} {}",
                body.txn,
                body.tag,
                item_text(m, &body.item)
            ),
            "protocol-06 §5.5",
        ),
        Msg::Ack { from, txn, .. } => l(
            pn(*from),
            pn(0),
            "201",
            format!("txn={txn}"),
            "protocol-06 §5.5",
        ),
    }
}

/// Chart for a whole path of actions from the initial state.
pub fn chart(m: &MimiModel, actions: &[Action]) -> Vec<MscLine> {
    let mut s = m.init_states().remove(0);
    let mut out = Vec::new();
    for a in actions {
        out.extend(step_lines(m, &s, a));
        match m.next_state(&s, a.clone()) {
            Some(n) => s = n,
            None => break,
        }
    }
    out
}

/// Mermaid `sequenceDiagram` text.
pub fn mermaid(lines: &[MscLine]) -> String {
    let id = |s: &str| {
        s.chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect::<String>()
    };
    let mut out = String::from("sequenceDiagram\n");
    let mut parts: Vec<String> = Vec::new();
    for x in lines {
        for p in [&x.from, &x.to] {
            if !parts.contains(p) {
                parts.push(p.clone());
            }
        }
    }
    for p in &parts {
        out.push_str(&format!("    participant {} as {}\n", id(p), p));
    }
    for x in lines {
        let text = format!("{} {} ({})", x.endpoint, x.fields, x.section).replace([';', '#'], " ");
        out.push_str(&format!("    {}->>{}: {}\n", id(&x.from), id(&x.to), text));
    }
    out
}
