//! The baseline model: two-phase commit with N resource managers, the classic shape model
//! checkers are benchmarked with.
//!
//! Written here from the textbook description (J. Gray, "Notes on Data Base Operating
//! Systems", 1978, as formalised by Gray and Lamport, "Consensus on Transaction Commit",
//! 2006, §3 and its `TwoPhase` specification): one transaction manager (TM), N resource
//! managers (RMs), and a message pool that only grows (messages may be delivered late,
//! repeatedly or never, since an action that reads a message leaves it in the pool).
//!
//! * An RM in `working` may prepare (sending `Prepared(rm)`) or decide on its own to abort.
//! * The TM, still undecided, records each `Prepared` it receives; once every RM prepared it
//!   may commit (sending `Commit`); at any point before deciding it may abort (sending
//!   `Abort`).
//! * An RM that receives `Commit` commits; one that receives `Abort` aborts.
//!
//! Safety (TC consistency): no RM has committed while another has aborted. Reachability:
//! all RMs commit; all RMs abort.

use stateright::{Model, Property};

/// A resource manager's state.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Rm {
    /// Still working on the transaction.
    Working,
    /// Voted yes and waits for the decision.
    Prepared,
    /// Committed.
    Committed,
    /// Aborted.
    Aborted,
}

/// The transaction manager's state.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Tm {
    /// Undecided.
    Init,
    /// Decided commit.
    Committed,
    /// Decided abort.
    Aborted,
}

/// A global state: every party plus the message pool (`Prepared` messages as a bit set).
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct State {
    /// Each RM's state.
    pub rms: Vec<Rm>,
    /// The TM's state.
    pub tm: Tm,
    /// The RMs whose `Prepared` the TM has received (bit i = RM i).
    pub tm_prepared: u64,
    /// `Prepared(rm)` messages sent so far (bit i = RM i).
    pub prepared_msgs: u64,
    /// `Commit` was sent.
    pub commit_msg: bool,
    /// `Abort` was sent.
    pub abort_msg: bool,
}

/// One step.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Action {
    /// The TM receives `Prepared(rm)`.
    TmRcvPrepared(usize),
    /// The TM decides commit.
    TmCommit,
    /// The TM decides abort.
    TmAbort,
    /// An RM prepares.
    RmPrepare(usize),
    /// An RM aborts on its own.
    RmChooseToAbort(usize),
    /// An RM receives `Commit`.
    RmRcvCommit(usize),
    /// An RM receives `Abort`.
    RmRcvAbort(usize),
}

/// Two-phase commit with `rms` resource managers (at most 64).
#[derive(Clone, Debug)]
pub struct TwoPhase {
    /// Number of resource managers.
    pub rms: usize,
}

impl TwoPhase {
    fn all(&self) -> u64 {
        if self.rms == 64 {
            u64::MAX
        } else {
            (1u64 << self.rms) - 1
        }
    }
}

impl Model for TwoPhase {
    type State = State;
    type Action = Action;

    fn init_states(&self) -> Vec<State> {
        assert!(self.rms <= 64, "at most 64 resource managers");
        vec![State {
            rms: vec![Rm::Working; self.rms],
            tm: Tm::Init,
            tm_prepared: 0,
            prepared_msgs: 0,
            commit_msg: false,
            abort_msg: false,
        }]
    }

    fn actions(&self, s: &State, out: &mut Vec<Action>) {
        if s.tm == Tm::Init {
            for rm in 0..self.rms {
                let bit = 1 << rm;
                if s.prepared_msgs & bit != 0 && s.tm_prepared & bit == 0 {
                    out.push(Action::TmRcvPrepared(rm));
                }
            }
            if s.tm_prepared == self.all() {
                out.push(Action::TmCommit);
            }
            out.push(Action::TmAbort);
        }
        for (rm, state) in s.rms.iter().enumerate() {
            if *state == Rm::Working {
                out.push(Action::RmPrepare(rm));
                out.push(Action::RmChooseToAbort(rm));
            }
            if s.commit_msg && *state != Rm::Committed {
                out.push(Action::RmRcvCommit(rm));
            }
            if s.abort_msg && *state != Rm::Aborted {
                out.push(Action::RmRcvAbort(rm));
            }
        }
    }

    fn next_state(&self, s: &State, a: Action) -> Option<State> {
        let mut n = s.clone();
        match a {
            Action::TmRcvPrepared(rm) => n.tm_prepared |= 1 << rm,
            Action::TmCommit => {
                n.tm = Tm::Committed;
                n.commit_msg = true;
            }
            Action::TmAbort => {
                n.tm = Tm::Aborted;
                n.abort_msg = true;
            }
            Action::RmPrepare(rm) => {
                n.rms[rm] = Rm::Prepared;
                n.prepared_msgs |= 1 << rm;
            }
            Action::RmChooseToAbort(rm) => n.rms[rm] = Rm::Aborted,
            Action::RmRcvCommit(rm) => n.rms[rm] = Rm::Committed,
            Action::RmRcvAbort(rm) => n.rms[rm] = Rm::Aborted,
        }
        Some(n)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        vec![
            Property::always("TC consistent", |_, s: &State| {
                !(s.rms.contains(&Rm::Committed) && s.rms.contains(&Rm::Aborted))
            }),
            Property::sometimes("all committed", |_, s: &State| {
                s.rms.iter().all(|r| *r == Rm::Committed)
            }),
            Property::sometimes("all aborted", |_, s: &State| {
                s.rms.iter().all(|r| *r == Rm::Aborted)
            }),
        ]
    }
}
