//! The job workers' shared memory: one slot per live supervisor or executor (its process, database and
//! role), the attempt an executor is running (job id and attempt token) and that attempt's progress.
//! Slots are how a committing transaction wakes idle executors (their latches), how a cancel reaches
//! the process that runs the job, and how the supervisor learns which attempts are alive.
//!
//! Everything here is atomics: commit callbacks read them, and those must never fail. Membership
//! (taking and freeing a slot) is serialized by a spin flag held for a few instructions. After a crash
//! restart, shared memory is made afresh: every slot is free.

use pgrx::prelude::*;
use pgrx::{pg_shmem_init, PGRXSharedMemory, PgAtomic, Uuid};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64, Ordering::*};

pub const SLOTS: usize = 128;
const REQUESTS: usize = 16;
/// The role of a supervisor's slot; executors are 1, 2, ...
pub const SUPERVISOR: u32 = 0;

/// The stage words a job reports (an index into this list is what a slot holds).
pub const STAGES: [&str; 12] = [
    "started",
    "compiling",
    "querying",
    "storing",
    "translating",
    "refreshing",
    "sprints",
    "issues",
    "changelogs",
    "pruning",
    "finishing",
    "running",
];

#[repr(C)]
#[derive(Default)]
pub struct Slot {
    /// 0: free.
    pid: AtomicI32,
    procno: AtomicI32,
    dboid: AtomicU32,
    role: AtomicU32,
    /// Odd while an attempt runs.
    seq: AtomicU64,
    job: [AtomicU64; 2],
    token: [AtomicU64; 2],
    /// f32 bits.
    progress: AtomicU32,
    stage: AtomicU32,
}

#[repr(C)]
pub struct Registry {
    lock: AtomicBool,
    launcher_procno: AtomicI32,
    requests: [AtomicU32; REQUESTS],
    /// Databases whose supervisor found no extension there (the launcher looks again later).
    absent: [AtomicU32; REQUESTS],
    slots: [Slot; SLOTS],
}

impl Default for Registry {
    fn default() -> Self {
        Registry {
            lock: AtomicBool::new(false),
            launcher_procno: AtomicI32::new(-1),
            requests: Default::default(),
            absent: Default::default(),
            slots: std::array::from_fn(|_| Slot::default()),
        }
    }
}

// SAFETY: only atomics, no pointers: valid in every process that maps the segment.
unsafe impl PGRXSharedMemory for Registry {}

static REGISTRY: PgAtomic<Registry> = unsafe { PgAtomic::new(c"agile_analytics_jobs") };
static SHARED: AtomicBool = AtomicBool::new(false);

thread_local! {
    static MINE: Cell<Option<usize>> = const { Cell::new(None) };
    static WAKE_PENDING: Cell<bool> = const { Cell::new(false) };
}

/// Reserves the registry; only possible while shared_preload_libraries load.
pub fn init() {
    if unsafe { pg_sys::process_shared_preload_libraries_in_progress } {
        pg_shmem_init!(REGISTRY);
        SHARED.store(true, Relaxed);
    }
}

/// The registry, when the library was preloaded (else there are no job workers at all).
fn registry() -> Option<&'static Registry> {
    SHARED.load(Relaxed).then(|| REGISTRY.get())
}

/// Whether this server can run job workers (the library is in shared_preload_libraries).
pub fn available() -> bool {
    SHARED.load(Relaxed)
}

fn halves(id: &Uuid) -> [u64; 2] {
    let b = id.as_bytes();
    let mut hi = [0u8; 8];
    let mut lo = [0u8; 8];
    hi.copy_from_slice(&b[..8]);
    lo.copy_from_slice(&b[8..]);
    [u64::from_be_bytes(hi), u64::from_be_bytes(lo)]
}

fn whole(h: [u64; 2]) -> Uuid {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&h[0].to_be_bytes());
    b[8..].copy_from_slice(&h[1].to_be_bytes());
    Uuid::from_bytes(b)
}

fn read(a: &[AtomicU64; 2]) -> [u64; 2] {
    [a[0].load(Acquire), a[1].load(Acquire)]
}

fn write(a: &[AtomicU64; 2], v: [u64; 2]) {
    a[0].store(v[0], Release);
    a[1].store(v[1], Release);
}

fn locked<T>(r: &Registry, f: impl FnOnce() -> T) -> T {
    while r.lock.compare_exchange_weak(false, true, Acquire, Relaxed).is_err() {
        std::hint::spin_loop();
    }
    let out = f();
    r.lock.store(false, Release);
    out
}

/// Takes this process's slot as `role` in database `db`; None when a live process has it already (a
/// duplicate start) or every slot is taken. The slot is freed when the process exits.
pub fn take(db: pg_sys::Oid, role: u32) -> Option<usize> {
    let r = registry()?;
    let (pid, procno) = unsafe { (pg_sys::MyProcPid, (*pg_sys::MyProc).pgprocno) };
    let i = locked(r, || {
        let dup = r.slots.iter().any(|s| s.pid.load(Acquire) != 0 && s.dboid.load(Relaxed) == db.to_u32() && s.role.load(Relaxed) == role);
        if dup {
            return None;
        }
        let i = r.slots.iter().position(|s| s.pid.load(Acquire) == 0)?;
        let s = &r.slots[i];
        s.procno.store(procno, Relaxed);
        s.dboid.store(db.to_u32(), Relaxed);
        s.role.store(role, Relaxed);
        s.seq.store(0, Relaxed);
        write(&s.job, [0, 0]);
        write(&s.token, [0, 0]);
        s.pid.store(pid, Release);
        Some(i)
    })?;
    MINE.set(Some(i));
    unsafe { pg_sys::before_shmem_exit(Some(release), pg_sys::Datum::from(i)) };
    Some(i)
}

#[pg_guard]
unsafe extern "C-unwind" fn release(_code: std::ffi::c_int, arg: pg_sys::Datum) {
    if let Some(r) = registry() {
        if let Some(s) = r.slots.get(arg.value()) {
            locked(r, || s.pid.store(0, Release));
        }
    }
}

/// The launcher announces itself, so that a submit in a database without workers can wake it.
pub fn set_launcher() {
    if let Some(r) = registry() {
        r.launcher_procno.store(unsafe { (*pg_sys::MyProc).pgprocno }, Release);
    }
}

fn my_slot() -> Option<&'static Slot> {
    Some(&registry()?.slots[MINE.get()?])
}

/// Publishes the attempt this executor starts (before its claim commits).
pub fn begin_attempt(job: &Uuid, token: &Uuid) {
    if let Some(s) = my_slot() {
        write(&s.job, halves(job));
        write(&s.token, halves(token));
        s.progress.store(0f32.to_bits(), Relaxed);
        s.stage.store(0, Relaxed);
        s.seq.fetch_add(1, AcqRel);
        // The supervisor watches running attempts more often than idle ones: tell it.
        let db = s.dboid.load(Relaxed);
        if let Some(r) = registry() {
            for sup in
                r.slots.iter().filter(|x| x.pid.load(Acquire) != 0 && x.dboid.load(Relaxed) == db && x.role.load(Relaxed) == SUPERVISOR)
            {
                set_latch(sup.procno.load(Relaxed));
            }
        }
    }
}

/// The attempt is over (its final state committed, or its claim rolled back).
pub fn end_attempt() {
    if let Some(s) = my_slot() {
        if s.seq.load(Acquire) % 2 == 1 {
            s.seq.fetch_add(1, AcqRel);
        }
        write(&s.job, [0, 0]);
        write(&s.token, [0, 0]);
    }
}

/// The running job's progress (0..1) and stage, for the supervisor to publish.
pub fn progress(fraction: f32, stage: &str) {
    if let Some(s) = my_slot() {
        let i = STAGES.iter().position(|w| *w == stage).unwrap_or(STAGES.len() - 1);
        s.progress.store(fraction.clamp(0.0, 1.0).to_bits(), Relaxed);
        s.stage.store(i as u32, Relaxed);
    }
}

/// An attempt running in an executor of this database.
pub struct Live {
    pub job: Uuid,
    pub token: Uuid,
    pub progress: f32,
    pub stage: &'static str,
    pub pid: i32,
}

/// The attempts running now in database `db`.
pub fn live(db: pg_sys::Oid) -> Vec<Live> {
    let Some(r) = registry() else { return vec![] };
    let mut out = Vec::new();
    for s in &r.slots {
        let pid = s.pid.load(Acquire);
        if pid == 0 || s.dboid.load(Relaxed) != db.to_u32() || s.role.load(Relaxed) == SUPERVISOR {
            continue;
        }
        let seq = s.seq.load(Acquire);
        let (job, token) = (read(&s.job), read(&s.token));
        if seq % 2 == 1 && s.seq.load(Acquire) == seq && job != [0, 0] {
            let stage = STAGES.get(s.stage.load(Relaxed) as usize).copied().unwrap_or("running");
            out.push(Live { job: whole(job), token: whole(token), progress: f32::from_bits(s.progress.load(Relaxed)), stage, pid });
        }
    }
    out
}

/// Whether a live process has `role` in database `db`.
pub fn has(db: pg_sys::Oid, role: u32) -> bool {
    registry().is_some_and(|r| {
        r.slots.iter().any(|s| s.pid.load(Acquire) != 0 && s.dboid.load(Relaxed) == db.to_u32() && s.role.load(Relaxed) == role)
    })
}

/// How many executors serve database `db`.
pub fn executors(db: pg_sys::Oid) -> usize {
    registry().map_or(0, |r| {
        r.slots
            .iter()
            .filter(|s| s.pid.load(Acquire) != 0 && s.dboid.load(Relaxed) == db.to_u32() && s.role.load(Relaxed) != SUPERVISOR)
            .count()
    })
}

fn set_latch(procno: i32) {
    // SAFETY: ProcGlobal's array of PGPROCs lives in shared memory for the server's life; the index is
    // checked against its length. SetLatch never raises an error.
    unsafe {
        let g = pg_sys::ProcGlobal;
        if procno >= 0 && !g.is_null() && (procno as u32) < (*g).allProcCount {
            pg_sys::SetLatch(&raw mut (*(*g).allProcs.add(procno as usize)).procLatch);
        }
    }
}

/// Asks the launcher to look at database `db` now (it has no workers yet).
fn request(r: &Registry, db: u32) {
    if !r.requests.iter().any(|c| c.load(Relaxed) == db) {
        if let Some(c) = r.requests.iter().find(|c| c.load(Relaxed) == 0) {
            let _ = c.compare_exchange(0, db, AcqRel, Relaxed);
        }
    }
    set_latch(r.launcher_procno.load(Acquire));
}

/// The databases whose workers were asked for since the last call (the launcher's).
pub fn take_requests() -> Vec<pg_sys::Oid> {
    let Some(r) = registry() else { return vec![] };
    r.requests.iter().map(|c| c.swap(0, AcqRel)).filter(|&d| d != 0).map(pg_sys::Oid::from_u32).collect()
}

/// A supervisor says, before it exits, that its database has no extension (or an older one).
pub fn mark_absent(db: pg_sys::Oid) {
    if let Some(r) = registry() {
        if !r.absent.iter().any(|c| c.load(Relaxed) == db.to_u32()) {
            if let Some(c) = r.absent.iter().find(|c| c.load(Relaxed) == 0) {
                let _ = c.compare_exchange(0, db.to_u32(), AcqRel, Relaxed);
            }
        }
    }
}

/// Whether database `db`'s supervisor exited because the extension is not there (and forgets it).
pub fn take_absent(db: pg_sys::Oid) -> bool {
    registry().is_some_and(|r| r.absent.iter().any(|c| c.compare_exchange(db.to_u32(), 0, AcqRel, Relaxed).is_ok()))
}

/// Wakes this database's idle executors (or asks the launcher for workers) when the current
/// transaction commits, so a job it queued starts at once; nothing happens if it rolls back.
pub fn wake_at_commit() {
    if !available() || WAKE_PENDING.replace(true) {
        return;
    }
    let db = unsafe { pg_sys::MyDatabaseId }.to_u32();
    pgrx::register_xact_callback(pgrx::PgXactCallbackEvent::Commit, move || {
        WAKE_PENDING.set(false);
        wake(db);
    });
    pgrx::register_xact_callback(pgrx::PgXactCallbackEvent::Abort, || WAKE_PENDING.set(false));
}

/// Runs after a commit: atomics and SetLatch only, nothing that can fail.
fn wake(db: u32) {
    let Some(r) = registry() else { return };
    let mut executors = 0;
    for s in &r.slots {
        if s.pid.load(Acquire) == 0 || s.dboid.load(Relaxed) != db || s.role.load(Relaxed) == SUPERVISOR {
            continue;
        }
        executors += 1;
        // Busy ones too: one that is finishing an attempt may have looked at the queue before this
        // commit and be about to sleep; its latch makes it look again at once.
        set_latch(s.procno.load(Relaxed));
    }
    if executors == 0 {
        request(r, db);
    }
}

unsafe extern "C" {
    fn kill(pid: i32, sig: i32) -> i32;
}

/// Interrupts the statement of the executor running `job` when the current transaction commits (the
/// caller has checked that the job is the calling role's and marked it cancel_requested).
pub fn cancel_at_commit(job: &Uuid) {
    let Some(r) = registry() else { return };
    let db = unsafe { pg_sys::MyDatabaseId }.to_u32();
    let want = halves(job);
    for (i, s) in r.slots.iter().enumerate() {
        let (pid, seq) = (s.pid.load(Acquire), s.seq.load(Acquire));
        if pid == 0 || seq % 2 == 0 || s.dboid.load(Relaxed) != db || read(&s.job) != want {
            continue;
        }
        pgrx::register_xact_callback(pgrx::PgXactCallbackEvent::Commit, move || {
            if let Some(s) = registry().and_then(|r| r.slots.get(i)) {
                if s.pid.load(Acquire) == pid && s.seq.load(Acquire) == seq {
                    interrupt(pid);
                }
            }
        });
    }
}

/// Sends SIGINT to a job executor (its statement is canceled, as by pg_cancel_backend).
pub fn interrupt(pid: i32) {
    if pid > 0 {
        // SAFETY: kill(2) with a pid read from a live slot of this registry.
        unsafe { kill(pid, pg_sys::SIGINT as i32) };
    }
}

/// Whether `pid` is an executor whose slot runs `job` with `token` now.
pub fn runs(pid: i32, job: &Uuid) -> bool {
    let want = halves(job);
    registry().is_some_and(|r| r.slots.iter().any(|s| s.pid.load(Acquire) == pid && s.seq.load(Acquire) % 2 == 1 && read(&s.job) == want))
}
