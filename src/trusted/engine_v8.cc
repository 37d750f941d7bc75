/* engine_v8.cc - engine.h on V8 (Debian's libnode, Node.js 18), for
 * tfaas-enclave-v8. The only C++ in tfaas: a shim with a C ABI, so the rest
 * of the enclave stays C and sees nothing but engine.h.
 *
 * One V8 isolate per heap (= per warm function instance), with one context.
 * V8 is started once per process (engine_init): a single-threaded platform
 * and --single-threaded, so V8 never starts threads of its own; the only
 * extra thread is the watchdog below, started before the sandbox forbids
 * new threads. Limits, with Duktape's messages and semantics:
 *  - time: a watchdog thread calls TerminateExecution on an isolate whose
 *    deadline passed; termination cannot be caught by JavaScript;
 *  - memory: everything the function can make V8 allocate counts against
 *    one limit (memory_used_now): the JavaScript heap (objects, strings,
 *    Map/Set tables, compiled code and regexps), V8's malloc'd zones
 *    (parser, compilers), ArrayBuffer backing stores (a counting allocator
 *    that refuses past the limit) and ICU's memory, which holds the Intl
 *    objects (ICU's allocator hook, u_setMemoryFunctions, charges each block
 *    to the heap running on the thread). The total is checked after every
 *    garbage collection (a full one settles any doubt, since garbage of every
 *    kind is freed only by one), when ICU grows past the limit, and at the
 *    end of each load or call, terminating the activation when over. V8
 *    cannot refuse one heap allocation gracefully (past its hard limit it
 *    aborts the process), so its hard limit (ResourceConstraints) sits
 *    1 GiB above, room for its largest object; reaching even that, a
 *    near-heap-limit callback terminates and lets V8 unwind once;
 *  - stack: V8's own stack guard turns deep recursion into a RangeError.
 * A heap that hit a limit is discarded, like Duktape's.
 *
 * Code cache: the first heap of a function compiles the source and, after
 * running it, serialises the compiled code (ScriptCompiler::CreateCodeCache);
 * later heaps of the same code consume it instead of compiling. The cache is
 * process-wide, LRU-bounded in bytes, and keyed by the SHA-256 of the tenant
 * (engine_heap_load's namespace) and the source: the same code of the same
 * tenant is the same function; a weaker hash would let one tenant's source
 * collide with another's and run the other's compiled code; and without the
 * tenant in the key, in a shared enclave a tenant could learn from the time
 * its own load takes (cached or compiled) whether another runs that source. */
#include "trusted/engine_v8.h"
#include "trusted/v8/node_surface.h"
#include "trusted/v8/webapi.h"

extern "C" {
#include "trusted/engine.h"
#include "trusted/log_buffer.h"
}
#include "trusted/v8/fetch.h"

#include <libplatform/libplatform.h>
#include <node_version.h>
#include <v8.h>

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <malloc.h>
#include <pthread.h>
#include <time.h>
#include <unicode/uclean.h>

#include <algorithm>
#include <cmath>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

/* Below this a V8 isolate does not even start reliably. */
constexpr size_t MIN_HEAP_BYTES = 4u << 20;
/* Code range reserved per isolate: V8's default (128 MiB of address space)
 * times a thousand warm heaps would exceed the sandbox's RLIMIT_AS. */
constexpr size_t CODE_RANGE_BYTES = 16u << 20;
/* Compiled-code cache across all functions. */
constexpr size_t CACHE_MAX_BYTES = 64u << 20;
/* V8 cannot fail a single allocation gracefully: past its hard heap limit it
 * aborts the process. So the hard limit sits this far above the action's
 * limit (more than V8's largest object, a 1 GiB array or string), and the
 * action's limit is enforced on the live heap after garbage collections
 * (gc_epilogue) and at the end of each load or call. */
constexpr size_t HARD_HEADROOM_BYTES = (1u << 30) + (64u << 20);
/* Times the near-heap-limit callback raises the hard limit during one load
 * or call while termination takes effect; past that V8 aborts the process
 * rather than let a heap grow without bound. */
constexpr int MAX_LIMIT_RAISES = 1;

uint64_t now_ns() {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ArrayBuffer backing stores, counted against the heap's limit. Refusing
 * makes V8 throw a catchable RangeError, so a refusal also terminates the
 * activation: catching the failure must not help (as with Duktape). */
class CountingAllocator final : public v8::ArrayBuffer::Allocator {
public:
    explicit CountingAllocator(engine_heap *h, size_t limit) : heap_(h), limit_(limit) {}
    void *Allocate(size_t n) override { return take(n) ? calloc(1, n ? n : 1) : nullptr; }
    void *AllocateUninitialized(size_t n) override { return take(n) ? malloc(n ? n : 1) : nullptr; }
    void Free(void *p, size_t n) override {
        free(p);
        used_ -= n;
    }
    void *Reallocate(void *p, size_t old_n, size_t new_n) override {
        if (new_n > old_n && !take(new_n - old_n)) return nullptr;
        void *q = realloc(p, new_n ? new_n : 1);
        if (!q) {
            if (new_n > old_n) used_ -= new_n - old_n;
            return nullptr;
        }
        if (new_n < old_n) used_ -= old_n - new_n;
        return q;
    }
    size_t used() const { return used_; }

private:
    bool take(size_t n);
    engine_heap *heap_;
    size_t limit_;
    std::atomic<size_t> used_{0};
};

/* ICU memory charged to one heap. It outlives the heap while ICU still
 * holds blocks charged to it (ICU's own caches): heap is then NULL. Fields
 * guarded by icu_mem.mu (below). */
struct IcuAccount {
    engine_heap *heap;
    size_t used = 0;
    size_t blocks = 0;
};

} // namespace

struct engine_heap {
    v8::Isolate *isolate = nullptr;
    CountingAllocator *allocator = nullptr;
    IcuAccount *icu = nullptr; /* set at create; its fields are guarded by icu_mem.mu */
    size_t heap_bytes = 0; /* V8 heap and zones at the last look (memory_used_now); the heap's thread only */
    v8::Global<v8::Context> context;
    v8::Global<v8::Function> main;
    v8::Global<v8::Function> string_fn; /* the original String(), for console */
    tfaas_v8::NodeSurface *surface = nullptr; /* require, process, Buffer (v8/node_surface.h); NULL: none */
    v8::Global<v8::Object> loop;        /* fetch.js's event loop {step, reset} (v8/fetch.h) */
    size_t limit = 0;
    size_t peak = 0;
    uint64_t timeout_ms = 0;
    std::atomic<int> timed_out{0};
    std::atomic<int> oom{0};
    int limit_raises = 0;
    bool full_gc_asked = false; /* a full collection is due to settle the live size */
    log_buffer logs{};
    /* watchdog list, guarded by wd.lock */
    uint64_t deadline_ns = 0;
    bool armed = false;
    engine_heap *wd_prev = nullptr, *wd_next = nullptr;
};

namespace {

bool CountingAllocator::take(size_t n) {
    size_t cur = used_.load();
    while (n <= limit_ && cur + n <= limit_) {
        if (used_.compare_exchange_weak(cur, cur + n)) return true;
    }
    heap_->oom = 1;
    heap_->isolate->TerminateExecution();
    return false;
}

/* ---- ICU memory ---------------------------------------------------------- */

/* Every block ICU allocates, with the account it is charged to, and the
 * account of the heap whose load or call runs on this thread (NULL outside
 * one: such blocks are not charged). A table, not a header in front of each
 * block: ICU may free blocks it allocated before the hook was set. */
struct {
    std::mutex mu;
    std::unordered_map<void *, std::pair<IcuAccount *, size_t>> blocks;
} icu_mem;
thread_local IcuAccount *icu_current;

void gc_soon(engine_heap *h);
size_t memory_used_now(engine_heap *h);

/* Charges n bytes at p to the running heap's account (under icu_mem.mu) and
 * returns whether that heap's total is now over its limit. */
bool icu_charge(void *p, size_t n) {
    IcuAccount *a = icu_current;
    if (!a) return false;
    icu_mem.blocks[p] = {a, n};
    a->used += n;
    a->blocks++;
    engine_heap *h = a->heap;
    return h->heap_bytes + h->allocator->used() + a->used > h->limit;
}

/* Under icu_mem.mu: forgets p's charge; the last block of a dead heap's account
 * frees the account. */
void icu_uncharge(void *p) {
    auto it = icu_mem.blocks.find(p);
    if (it == icu_mem.blocks.end()) return;
    IcuAccount *a = it->second.first;
    a->used -= it->second.second;
    a->blocks--;
    icu_mem.blocks.erase(it);
    if (!a->heap && !a->blocks) delete a;
}

/* Past the limit ICU's allocation still succeeds (V8's Intl code does not
 * expect ICU to fail), but a full collection is asked for at once: its
 * epilogue frees what is garbage and ends the activation if still over. */
void *icu_alloc(const void *, size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p || !icu_current) return p;
    bool over;
    {
        std::lock_guard<std::mutex> g(icu_mem.mu);
        over = icu_charge(p, n);
    }
    if (over) gc_soon(icu_current->heap);
    return p;
}

void icu_free(const void *, void *p);

/* A fresh block and a copy: the table's key must change with the block. */
void *icu_realloc(const void *, void *p, size_t n) {
    void *q = icu_alloc(nullptr, n);
    if (!q || !p) return q;
    memcpy(q, p, std::min(n, malloc_usable_size(p)));
    icu_free(nullptr, p);
    return q;
}

void icu_free(const void *, void *p) {
    if (!p) return;
    {
        std::lock_guard<std::mutex> g(icu_mem.mu);
        icu_uncharge(p);
    }
    free(p);
}

size_t icu_used(engine_heap *h) {
    std::lock_guard<std::mutex> g(icu_mem.mu);
    return h->icu->used;
}

/* ---- process-wide start-up ---------------------------------------------- */

/* V8's single-threaded default platform with one change: its wall clock,
 * which Date.now() and new Date() read, is rounded down to
 * ENGINE_CLOCK_QUANTUM_MS (engine.h), as Duktape's is. Everything else is
 * passed through. */
class CoarseClockPlatform final : public v8::Platform {
  public:
    explicit CoarseClockPlatform(std::unique_ptr<v8::Platform> inner) : inner_(std::move(inner)) {}
    double CurrentClockTimeMillis() override {
        double ms = inner_->CurrentClockTimeMillis();
        return ms - std::fmod(ms, (double)ENGINE_CLOCK_QUANTUM_MS);
    }
    v8::PageAllocator *GetPageAllocator() override { return inner_->GetPageAllocator(); }
    v8::ZoneBackingAllocator *GetZoneBackingAllocator() override { return inner_->GetZoneBackingAllocator(); }
    void OnCriticalMemoryPressure() override { inner_->OnCriticalMemoryPressure(); }
    bool OnCriticalMemoryPressure(size_t length) override { return inner_->OnCriticalMemoryPressure(length); }
    int NumberOfWorkerThreads() override { return inner_->NumberOfWorkerThreads(); }
    std::shared_ptr<v8::TaskRunner> GetForegroundTaskRunner(v8::Isolate *isolate) override {
        return inner_->GetForegroundTaskRunner(isolate);
    }
    void CallOnWorkerThread(std::unique_ptr<v8::Task> task) override { inner_->CallOnWorkerThread(std::move(task)); }
    void CallBlockingTaskOnWorkerThread(std::unique_ptr<v8::Task> task) override {
        inner_->CallBlockingTaskOnWorkerThread(std::move(task));
    }
    void CallLowPriorityTaskOnWorkerThread(std::unique_ptr<v8::Task> task) override {
        inner_->CallLowPriorityTaskOnWorkerThread(std::move(task));
    }
    void CallDelayedOnWorkerThread(std::unique_ptr<v8::Task> task, double delay_in_seconds) override {
        inner_->CallDelayedOnWorkerThread(std::move(task), delay_in_seconds);
    }
    bool IdleTasksEnabled(v8::Isolate *isolate) override { return inner_->IdleTasksEnabled(isolate); }
    std::unique_ptr<v8::JobHandle> PostJob(v8::TaskPriority priority, std::unique_ptr<v8::JobTask> job) override {
        return inner_->PostJob(priority, std::move(job));
    }
    double MonotonicallyIncreasingTime() override { return inner_->MonotonicallyIncreasingTime(); }
    StackTracePrinter GetStackTracePrinter() override { return inner_->GetStackTracePrinter(); }
    v8::TracingController *GetTracingController() override { return inner_->GetTracingController(); }
    void DumpWithoutCrashing() override { inner_->DumpWithoutCrashing(); }

  private:
    std::unique_ptr<v8::Platform> inner_;
};

v8::Platform *platform;
pthread_once_t init_once = PTHREAD_ONCE_INIT;
bool init_ok;

/* ---- watchdog: one thread terminating isolates past their deadline ------ */

struct {
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cond;
    engine_heap *armed = nullptr; /* unordered list; a handful at most (one per worker) */
    /* When the watchdog wakes next by itself (UINT64_MAX: only when
     * signalled). arm() signals only for a deadline before it: a call's
     * deadline (its timeout, seconds away) almost never is, so a call does
     * not wake the watchdog, a context switch per activation on a VM. */
    uint64_t wakes_at = 0;
} wd;

void *watchdog_main(void *) {
    pthread_mutex_lock(&wd.lock);
    for (;;) {
        uint64_t now = now_ns(), next = UINT64_MAX;
        for (engine_heap *h = wd.armed, *nx; h; h = nx) {
            nx = h->wd_next;
            if (h->deadline_ns <= now) {
                /* Under wd.lock: the heap cannot be disarmed (and so not
                 * destroyed) while this runs. TerminateExecution is the one
                 * isolate call V8 allows from another thread. */
                h->timed_out = 1;
                h->isolate->TerminateExecution();
                h->armed = false;
                if (h->wd_prev) h->wd_prev->wd_next = h->wd_next; else wd.armed = h->wd_next;
                if (h->wd_next) h->wd_next->wd_prev = h->wd_prev;
            } else {
                next = std::min(next, h->deadline_ns);
            }
        }
        wd.wakes_at = next;
        if (next == UINT64_MAX) {
            pthread_cond_wait(&wd.cond, &wd.lock);
        } else {
            struct timespec ts = {(time_t)(next / 1000000000u), (long)(next % 1000000000u)};
            pthread_cond_timedwait(&wd.cond, &wd.lock, &ts);
        }
    }
    return nullptr;
}

void arm(engine_heap *h, const engine_limits *lim) {
    pthread_mutex_lock(&wd.lock);
    h->deadline_ns = now_ns() + engine_budget_ns(lim);
    h->armed = true;
    h->wd_prev = nullptr;
    h->wd_next = wd.armed;
    if (wd.armed) wd.armed->wd_prev = h;
    wd.armed = h;
    /* A deadline after the watchdog's next wake-up is seen then; a heap
     * disarmed meanwhile only costs it a wake-up that finds nothing due. */
    if (h->deadline_ns < wd.wakes_at) {
        wd.wakes_at = h->deadline_ns;
        pthread_cond_signal(&wd.cond);
    }
    pthread_mutex_unlock(&wd.lock);
}

/* After this returns the watchdog no longer touches h, and h->timed_out is
 * final for the load or call. */
void disarm(engine_heap *h) {
    pthread_mutex_lock(&wd.lock);
    if (h->armed) {
        h->armed = false;
        if (h->wd_prev) h->wd_prev->wd_next = h->wd_next; else wd.armed = h->wd_next;
        if (h->wd_next) h->wd_next->wd_prev = h->wd_prev;
    }
    pthread_mutex_unlock(&wd.lock);
}

void init_process() {
    /* --single-threaded: no compiler or GC helper threads (the sandbox allows
     * no new thread once functions run; GC work happens on the caller).
     * No WebAssembly: its memories reserve gigabytes of address space each,
     * and the platform promises JavaScript only. */
    static const char flags[] = "--single-threaded --no-expose-wasm";
    v8::V8::SetFlagsFromString(flags, sizeof flags - 1);
    /* Before V8 touches ICU: Intl objects are ICU's memory, charged to the
     * heap that makes them. */
    UErrorCode uerr = U_ZERO_ERROR;
    u_setMemoryFunctions(nullptr, icu_alloc, icu_realloc, icu_free, &uerr);
    if (U_FAILURE(uerr)) {
        fprintf(stderr, "tfaas-enclave: cannot hook ICU's allocator: %s\n", u_errorName(uerr));
        return;
    }
    platform = new CoarseClockPlatform(v8::platform::NewSingleThreadedDefaultPlatform());
    v8::V8::InitializePlatform(platform);
    if (!v8::V8::Initialize()) return;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&wd.cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256u << 10);
    int rc = pthread_create(&t, &attr, watchdog_main, nullptr);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        fprintf(stderr, "tfaas-enclave: cannot start the V8 watchdog thread: %s\n", strerror(rc));
        return;
    }
    pthread_detach(t);
    init_ok = true;
}

bool engine_init() {
    pthread_once(&init_once, init_process);
    return init_ok;
}

/* ---- code cache --------------------------------------------------------- */

using Blob = std::shared_ptr<const std::vector<uint8_t>>;

struct {
    std::mutex mu;
    std::list<std::pair<std::string, Blob>> lru; /* most recent first */
    std::unordered_map<std::string, decltype(lru)::iterator> index;
    size_t bytes = 0;
    unsigned long compiled = 0, from_cache = 0;
} cache;

/* SHA-256 over the tenant's length (8 bytes, little-endian), the tenant and
 * the code: the length keeps ("ab", "c...") and ("a", "bc...") apart. */
std::string code_key(const char *tenant, const char *code, size_t len) {
    size_t tlen = strlen(tenant);
    unsigned char tlen_le[8];
    for (int i = 0; i < 8; i++) tlen_le[i] = (unsigned char)((uint64_t)tlen >> (8 * i));
    unsigned char d[SHA256_DIGEST_LENGTH];
    unsigned int dlen = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    bool ok = c && EVP_DigestInit_ex(c, EVP_sha256(), nullptr) == 1 &&
              EVP_DigestUpdate(c, tlen_le, sizeof tlen_le) == 1 && EVP_DigestUpdate(c, tenant, tlen) == 1 &&
              EVP_DigestUpdate(c, code, len) == 1 && EVP_DigestFinal_ex(c, d, &dlen) == 1 && dlen == sizeof d;
    EVP_MD_CTX_free(c);
    /* No key, no cache: an empty key is never looked up or stored. */
    return ok ? std::string(reinterpret_cast<char *>(d), sizeof d) : std::string();
}

Blob cache_get(const std::string &key) {
    std::lock_guard<std::mutex> g(cache.mu);
    auto it = cache.index.find(key);
    if (it == cache.index.end()) return nullptr;
    cache.lru.splice(cache.lru.begin(), cache.lru, it->second);
    return it->second->second;
}

void cache_put(const std::string &key, Blob blob) {
    if (blob->size() > CACHE_MAX_BYTES / 4) return;
    std::lock_guard<std::mutex> g(cache.mu);
    auto it = cache.index.find(key);
    if (it != cache.index.end()) {
        cache.bytes -= it->second->second->size();
        cache.lru.erase(it->second);
        cache.index.erase(it);
    }
    cache.lru.emplace_front(key, blob);
    cache.index[key] = cache.lru.begin();
    cache.bytes += blob->size();
    while (cache.bytes > CACHE_MAX_BYTES) {
        auto &last = cache.lru.back();
        cache.bytes -= last.second->size();
        cache.index.erase(last.first);
        cache.lru.pop_back();
    }
}

void cache_count(bool hit) {
    std::lock_guard<std::mutex> g(cache.mu);
    (hit ? cache.from_cache : cache.compiled)++;
}

/* ---- heap memory ------------------------------------------------------ */

/* Everything the heap holds against its limit (see the top of this file). */
size_t memory_used_now(engine_heap *h) {
    v8::HeapStatistics hs;
    h->isolate->GetHeapStatistics(&hs);
    h->heap_bytes = hs.used_heap_size() + hs.malloced_memory();
    return h->heap_bytes + h->allocator->used() + icu_used(h) + tfaas_v8::surface_bytes(h->surface);
}

void over_limit(engine_heap *h) {
    h->oom = 1;
    h->isolate->TerminateExecution();
}

/* Runs on the isolate's thread at a safe point: a full collection, whose
 * epilogue then judges the live size. */
void full_gc_interrupt(v8::Isolate *iso, void *data) {
    engine_heap *h = static_cast<engine_heap *>(data);
    h->full_gc_asked = false;
    iso->LowMemoryNotification();
}

/* After every collection. After a full one the used size is the live size:
 * over the limit, the activation ends. After a young-generation one the old
 * generation still holds garbage, so an apparent excess only asks for a
 * full collection (from an interrupt: none can start inside this callback). */
void gc_epilogue(v8::Isolate *, v8::GCType type, v8::GCCallbackFlags, void *data) {
    engine_heap *h = static_cast<engine_heap *>(data);
    size_t used = memory_used_now(h);
    h->peak = std::max(h->peak, used);
    if (used <= h->limit || h->oom) return;
    if (type == v8::kGCTypeMarkSweepCompact) over_limit(h);
    else gc_soon(h);
}

/* Asks for a full collection at the next safe point, once at a time. */
void gc_soon(engine_heap *h) {
    if (h->full_gc_asked) return;
    h->full_gc_asked = true;
    h->isolate->RequestInterrupt(full_gc_interrupt, h);
}

/* V8 reached its hard limit (far above the action's): end the activation
 * and give V8 room to unwind; termination takes effect at the next check. */
size_t near_heap_limit(void *data, size_t current, size_t initial) {
    (void)initial;
    engine_heap *h = static_cast<engine_heap *>(data);
    over_limit(h);
    if (h->limit_raises >= MAX_LIMIT_RAISES) return current;
    h->limit_raises++;
    return current + HARD_HEADROOM_BYTES;
}

/* The end of a load or call: the live heap must be within the limit, even
 * if no collection noticed it growing past (one large allocation). */
void check_memory(engine_heap *h) {
    size_t used = memory_used_now(h);
    if (used > h->limit) {
        h->isolate->LowMemoryNotification(); /* its epilogue sets oom if still over */
        used = memory_used_now(h);
    }
    h->peak = std::max(h->peak, used);
}

/* ---- console ------------------------------------------------------------ */

/* String(v) with the original String function; "" when even that throws
 * (a hostile Symbol.toPrimitive). Termination propagates. */
v8::Local<v8::String> safe_string(engine_heap *h, v8::Local<v8::Context> ctx, v8::Local<v8::Value> v) {
    v8::Isolate *iso = h->isolate;
    v8::TryCatch tc(iso);
    v8::Local<v8::Value> r;
    if (h->string_fn.Get(iso)->Call(ctx, v8::Undefined(iso), 1, &v).ToLocal(&r) && r->IsString())
        return r.As<v8::String>();
    if (tc.HasTerminated()) tc.ReThrow();
    return v8::String::Empty(iso);
}

/* console.log & co: arguments joined by spaces, strings as they are, objects
 * as JSON (String() when JSON fails or has nothing to say). */
void console_write(const v8::FunctionCallbackInfo<v8::Value> &args) {
    v8::Isolate *iso = args.GetIsolate();
    engine_heap *h = static_cast<engine_heap *>(iso->GetData(0));
    if (h->logs.truncated) return;
    bool is_stderr = args.Data()->IsTrue();
    v8::Local<v8::Context> ctx = iso->GetCurrentContext();
    std::string line;
    for (int i = 0; i < args.Length(); i++) {
        v8::Local<v8::Value> a = args[i];
        v8::Local<v8::String> s;
        if (a->IsString()) {
            s = a.As<v8::String>();
        } else if (a->IsObject() && !a->IsFunction()) {
            v8::TryCatch tc(iso);
            v8::Local<v8::String> j;
            if (v8::JSON::Stringify(ctx, a).ToLocal(&j)) {
                s = j;
            } else if (tc.HasTerminated()) {
                tc.ReThrow();
                return;
            }
        }
        if (s.IsEmpty() || (a->IsObject() && !a->IsFunction() && s->Length() == 0)) s = safe_string(h, ctx, a);
        if (iso->IsExecutionTerminating()) return;
        v8::String::Utf8Value u(iso, s);
        if (i) line += ' ';
        if (*u) line.append(*u, (size_t)u.length());
    }
    log_buffer_write(&h->logs, is_stderr, line.data(), line.size());
}

v8::Local<v8::String> str(v8::Isolate *iso, const char *s) {
    return v8::String::NewFromUtf8(iso, s).ToLocalChecked();
}

/* Globals every action sees: console, CommonJS-style exports/module, and
 * the Web APIs of v8/webapi.h (crypto, TextEncoder, ...). nodejs:* kinds and
 * zip actions get require (and process, Buffer) when their code loads
 * (v8/node_surface.h); no I/O in any case. */
bool setup_globals(engine_heap *h, v8::Local<v8::Context> ctx) {
    v8::Isolate *iso = h->isolate;
    v8::Local<v8::Object> global = ctx->Global();
    v8::Local<v8::Object> console = v8::Object::New(iso);
    static const struct { const char *name; bool is_stderr; } fns[] = {
        {"log", false}, {"info", false}, {"debug", false}, {"error", true}, {"warn", true}};
    for (const auto &f : fns) {
        v8::Local<v8::Function> fn;
        if (!v8::Function::New(ctx, console_write, v8::Boolean::New(iso, f.is_stderr)).ToLocal(&fn) ||
            console->Set(ctx, str(iso, f.name), fn).IsNothing())
            return false;
    }
    v8::Local<v8::Object> exports = v8::Object::New(iso), module = v8::Object::New(iso);
    v8::Local<v8::Value> string_fn;
    if (global->Set(ctx, str(iso, "console"), console).IsNothing() ||
        module->Set(ctx, str(iso, "exports"), exports).IsNothing() ||
        global->Set(ctx, str(iso, "module"), module).IsNothing() ||
        global->Set(ctx, str(iso, "exports"), exports).IsNothing() ||
        !global->Get(ctx, str(iso, "String")).ToLocal(&string_fn) || !string_fn->IsFunction() ||
        !webapi_install(iso, ctx)) /* the Web APIs, installed on first use (webapi.h) */
        return false;
    h->string_fn.Reset(iso, string_fn.As<v8::Function>());
    return true;
}

/* ---- load and call ------------------------------------------------------ */

void begin(engine_heap *h, const engine_limits *lim) {
    h->logs.max = lim->max_log_bytes;
    h->timed_out = 0;
    h->oom = 0;
    h->limit_raises = 0;
    h->full_gc_asked = false;
    h->peak = 0;
    h->timeout_ms = lim->timeout_ms;
    icu_current = h->icu;
    arm(h, lim);
}

/* Ends a load or call: stops the clock and, when a limit stopped the code,
 * replaces the outcome with the limit's message. Returns true then. */
bool end_limits(engine_heap *h, engine_outcome *out) {
    if (!h->timed_out && !h->oom) check_memory(h);
    icu_current = nullptr;
    disarm(h);
    if (h->isolate->IsExecutionTerminating() || h->timed_out || h->oom)
        h->isolate->CancelTerminateExecution();
    if (!h->timed_out && !h->oom) return false;
    engine_outcome_limit(out, h->timed_out, h->timeout_ms);
    return true;
}

void finish(engine_heap *h, engine_outcome *out) {
    out->peak_memory = h->peak;
    out->logs = log_buffer_take(&h->logs);
}

/* prefix + String(exception). Call it before end_limits: String() may run
 * the function's own toString, which the deadline must still bound. */
std::string exception_text(engine_heap *h, v8::Local<v8::Context> ctx, v8::TryCatch &tc, const char *prefix) {
    std::string msg = prefix;
    v8::Local<v8::Value> ex = tc.Exception();
    if (ex.IsEmpty() || h->isolate->IsExecutionTerminating()) {
        msg += "unknown error";
    } else {
        v8::String::Utf8Value u(h->isolate, safe_string(h, ctx, ex));
        msg += *u && u.length() ? std::string(*u, std::min<size_t>((size_t)u.length(), 1000)) : "unknown error";
    }
    return msg;
}

/* The \uXXXX escape at p (6 bytes) names a surrogate of the range [lo, hi]. */
bool is_surrogate_escape(const char *p, const char *end, unsigned lo, unsigned hi) {
    if (end - p < 6 || p[0] != '\\' || p[1] != 'u') return false;
    unsigned v = 0;
    for (int i = 2; i < 6; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return false;
        v = v * 16 + (unsigned)d;
    }
    return v >= lo && v <= hi;
}

/* JSON.stringify writes a lone surrogate as a \udXXX escape: valid
 * JavaScript, but no Unicode text, and the host's JSON parser refuses it.
 * Each becomes \ufffd (the same length, so in place), as UTF-8 decoders do. */
void replace_lone_surrogates(char *s, size_t len) {
    char *end = s + len;
    for (char *p = s; p < end; p++) {
        if (*p != '\\' || p + 1 >= end) continue;
        if (p[1] != 'u') {
            p++; /* an escaped character, perhaps a backslash */
            continue;
        }
        if (is_surrogate_escape(p, end, 0xd800, 0xdbff) && is_surrogate_escape(p + 6, end, 0xdc00, 0xdfff)) {
            p += 11; /* a proper pair */
        } else if (is_surrogate_escape(p, end, 0xd800, 0xdfff)) {
            memcpy(p, "\\ufffd", 6);
            p += 5;
        } else {
            p += 5;
        }
    }
}

/* A plain identifier (the host's main name is user input). Reserved words
 * pass but only make the probe below a SyntaxError. */
bool is_identifier(const char *s) {
    if (!*s || strlen(s) > 100 || (*s >= '0' && *s <= '9')) return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '$'))
            return false;
    return true;
}

/* Runs the script and leaves the entry point in h->main; false with the
 * exception in tc, or true with *no_main set when there is none. */
bool load_script(engine_heap *h, v8::Local<v8::Context> ctx, const char *code, size_t code_len,
                 const char *main_name, const char *tenant, const engine_env *env, bool *no_main) {
    v8::Isolate *iso = h->isolate;
    v8::Local<v8::Value> zip_exports, fn;
    std::string key = code_key(tenant, code, code_len);
    switch (tfaas_v8::surface_load(iso, ctx, &h->surface, env, key, code, code_len, &zip_exports)) {
    case tfaas_v8::Load::kFailed: return false;
    case tfaas_v8::Load::kScript: break;
    case tfaas_v8::Load::kZip:
        /* OpenWhisk's zip rule: the main module's exports[main] (or the
         * exports themselves when they are a function). */
        iso->PerformMicrotaskCheckpoint();
        if (iso->IsExecutionTerminating()) return false;
        fn = zip_exports;
        if (!fn->IsFunction() && zip_exports->IsObject() &&
            !zip_exports.As<v8::Object>()->Get(ctx, str(iso, main_name)).ToLocal(&fn))
            return false;
        if (fn.IsEmpty() || !fn->IsFunction()) *no_main = true;
        else h->main.Reset(iso, fn.As<v8::Function>());
        return true;
    }
    if (code_len > (size_t)v8::String::kMaxLength) {
        iso->ThrowError(str(iso, "the code is too long"));
        return false;
    }
    v8::Local<v8::String> source;
    if (!v8::String::NewFromUtf8(iso, code, v8::NewStringType::kNormal, (int)code_len).ToLocal(&source))
        return false;
    Blob blob = key.empty() ? nullptr : cache_get(key);
    v8::ScriptOrigin origin(iso, str(iso, "action.js"));
    v8::ScriptCompiler::CachedData *cd = nullptr;
    if (blob)
        cd = new v8::ScriptCompiler::CachedData(blob->data(), (int)blob->size(),
                                                v8::ScriptCompiler::CachedData::BufferNotOwned);
    v8::ScriptCompiler::Source src(source, origin, cd); /* owns cd */
    v8::Local<v8::Script> script;
    if (!v8::ScriptCompiler::Compile(ctx, &src, blob ? v8::ScriptCompiler::kConsumeCodeCache
                                                     : v8::ScriptCompiler::kNoCompileOptions)
             .ToLocal(&script))
        return false;
    bool hit = blob && !src.GetCachedData()->rejected;
    cache_count(hit);
    v8::Local<v8::Value> ignored;
    if (!script->Run(ctx).ToLocal(&ignored)) return false;
    iso->PerformMicrotaskCheckpoint();
    if (iso->IsExecutionTerminating()) return false;
    /* module.exports = function, then module.exports[main], then global main. */
    v8::Local<v8::Object> global = ctx->Global();
    v8::Local<v8::Value> module, exports;
    v8::Local<v8::String> name = str(iso, main_name);
    if (!global->Get(ctx, str(iso, "module")).ToLocal(&module)) return false;
    if (module->IsObject() && !module.As<v8::Object>()->Get(ctx, str(iso, "exports")).ToLocal(&exports)) return false;
    if (!exports.IsEmpty() && exports->IsFunction()) {
        fn = exports;
    } else {
        if (!exports.IsEmpty() && exports->IsObject() && !exports.As<v8::Object>()->Get(ctx, name).ToLocal(&fn))
            return false;
        if (fn.IsEmpty() || !fn->IsFunction())
            if (!global->Get(ctx, name).ToLocal(&fn)) return false;
    }
    if (!fn->IsFunction() && is_identifier(main_name)) {
        /* A top-level `const main = ...` or `let`/`class` binding is no
         * property of the global object; look the name up as code. */
        std::string probe = std::string("typeof ") + main_name + " === 'function' ? " + main_name + " : undefined";
        v8::Local<v8::Script> s;
        if (!v8::Script::Compile(ctx, str(iso, probe.c_str())).ToLocal(&s) || !s->Run(ctx).ToLocal(&fn)) return false;
    }
    if (!fn->IsFunction()) {
        *no_main = true;
        return true;
    }
    h->main.Reset(iso, fn.As<v8::Function>());
    if (!hit && !key.empty()) {
        /* After the run: the cache then holds the functions the top level
         * compiled too, not only the outer script. */
        v8::ScriptCompiler::CachedData *made = v8::ScriptCompiler::CreateCodeCache(script->GetUnboundScript());
        if (made) {
            if (made->length > 0)
                cache_put(key, std::make_shared<const std::vector<uint8_t>>(made->data, made->data + made->length));
            delete made;
        }
    }
    return true;
}

} // namespace

/* ---- engine.h ----------------------------------------------------------- */

extern "C" {

const char *engine_identity(void) {
    static char id[64];
    if (!id[0])
        snprintf(id, sizeof id, "v8/%d.%d.%d.%d-node.%d.%d.%d", V8_MAJOR_VERSION, V8_MINOR_VERSION, V8_BUILD_NUMBER,
                 V8_PATCH_LEVEL, NODE_MAJOR_VERSION, NODE_MINOR_VERSION, NODE_PATCH_VERSION);
    return id;
}

int engine_needs_exec_memory(void) { return 1; }

engine_heap *engine_heap_create(size_t memory_limit) {
    if (memory_limit < MIN_HEAP_BYTES || !engine_init()) return nullptr;
    engine_heap *h = new (std::nothrow) engine_heap;
    if (!h) return nullptr;
    h->limit = memory_limit;
    h->allocator = new (std::nothrow) CountingAllocator(h, memory_limit);
    h->icu = new (std::nothrow) IcuAccount{h};
    if (!h->allocator || !h->icu) {
        delete h->allocator;
        delete h->icu;
        delete h;
        return nullptr;
    }
    v8::Isolate::CreateParams p;
    p.array_buffer_allocator = h->allocator;
    p.constraints.ConfigureDefaultsFromHeapSize(0, memory_limit);
    p.constraints.set_max_old_generation_size_in_bytes(memory_limit + HARD_HEADROOM_BYTES);
    p.constraints.set_code_range_size_in_bytes(CODE_RANGE_BYTES);
    h->isolate = v8::Isolate::New(p);
    if (!h->isolate) {
        engine_heap_destroy(h);
        return nullptr;
    }
    h->isolate->SetData(0, h);
    h->isolate->AddNearHeapLimitCallback(near_heap_limit, h);
    h->isolate->AddGCEpilogueCallback(gc_epilogue, h);
    /* Promise jobs run when the shim says so: right after the load or call,
     * inside its deadline, never in a later activation. */
    h->isolate->SetMicrotasksPolicy(v8::MicrotasksPolicy::kExplicit);
    bool ok;
    {
        v8::Locker locker(h->isolate);
        v8::Isolate::Scope is(h->isolate);
        v8::HandleScope hs(h->isolate);
        v8::Local<v8::Context> ctx = v8::Context::New(h->isolate);
        ok = !ctx.IsEmpty();
        if (ok) {
            v8::Context::Scope cs(ctx);
            ok = setup_globals(h, ctx) && v8_fetch_install(h->isolate, ctx, &h->loop);
            h->context.Reset(h->isolate, ctx);
        }
    }
    if (!ok) {
        engine_heap_destroy(h);
        return nullptr;
    }
    return h;
}

void engine_heap_destroy(engine_heap *h) {
    if (!h) return;
    if (h->isolate) {
        {
            v8::Locker locker(h->isolate);
            tfaas_v8::surface_free(h->surface);
            h->main.Reset();
            h->string_fn.Reset();
            h->loop.Reset();
            h->context.Reset();
        }
        h->isolate->Dispose();
    }
    delete h->allocator;
    if (h->icu) {
        /* ICU blocks still charged to it (ICU's caches) keep the account. */
        std::lock_guard<std::mutex> g(icu_mem.mu);
        h->icu->heap = nullptr;
        if (!h->icu->blocks) delete h->icu;
    }
    log_buffer_free(&h->logs);
    delete h;
}

int engine_heap_load(engine_heap *h, const char *code, size_t code_len, const char *main_name,
                     const char *tenant, const engine_limits *lim, engine_outcome *out) {
    memset(out, 0, sizeof *out);
    const char *mn = main_name && *main_name ? main_name : "main";
    v8::Locker locker(h->isolate);
    v8::Isolate::Scope is(h->isolate);
    v8::HandleScope hs(h->isolate);
    v8::Local<v8::Context> ctx = h->context.Get(h->isolate);
    v8::Context::Scope cs(ctx);
    begin(h, lim);
    bool no_main = false, ok;
    {
        v8::TryCatch tc(h->isolate);
        ok = load_script(h, ctx, code, code_len, mn, tenant ? tenant : "", lim->env, &no_main);
        std::string err = ok ? "" : exception_text(h, ctx, tc, "Initialization has failed due to: ");
        if (!end_limits(h, out) && !ok) engine_outcome_error(out, TFAAS_STATUS_DEVELOPER_ERR, err.c_str());
    }
    if (out->result) {
        out->discard = 1;
        finish(h, out);
        return -1;
    }
    if (no_main) {
        engine_outcome_no_main(out, mn);
        finish(h, out);
        return -1;
    }
    return 0; /* load logs stay for the first call */
}

void engine_heap_call(engine_heap *h, const char *params, size_t params_len, const engine_limits *lim,
                      engine_outcome *out) {
    memset(out, 0, sizeof *out);
    v8::Isolate *iso = h->isolate;
    v8::Locker locker(iso);
    v8::Isolate::Scope is(iso);
    v8::HandleScope hs(iso);
    v8::Local<v8::Context> ctx = h->context.Get(iso);
    v8::Context::Scope cs(ctx);
    begin(h, lim);
    /* Timers and requests of an earlier activation never run in this one. */
    v8_loop_reset(iso, ctx, h->loop);
    iso->SetData(V8_FETCH_SLOT, lim->fetch);
    v8::TryCatch tc(iso);
    bool bad_params = true, failed = true;
    v8::Local<v8::String> json;
    do {
        v8::Local<v8::String> text;
        v8::Local<v8::Value> arg, result;
        if (params_len > (size_t)v8::String::kMaxLength ||
            !v8::String::NewFromUtf8(iso, params, v8::NewStringType::kNormal, (int)params_len).ToLocal(&text) ||
            !v8::JSON::Parse(ctx, text).ToLocal(&arg) || !arg->IsObject() || arg->IsArray() || arg->IsFunction())
            break;
        bad_params = false;
        /* The activation's environment: process.env, or main's second argument (v8/node_surface.h). */
        v8::Local<v8::Value> argv[2] = {arg, v8::Local<v8::Value>()};
        if (!tfaas_v8::surface_env(iso, ctx, h->surface, lim->env, &argv[1])) break;
        if (!h->main.Get(iso)->Call(ctx, v8::Undefined(iso), argv[1].IsEmpty() ? 1 : 2, argv).ToLocal(&result))
            break;
        /* async main / returned Promise: run every job now, then the
         * activation's event loop (timers, fetch) until it settles. */
        iso->PerformMicrotaskCheckpoint();
        if (iso->IsExecutionTerminating()) break;
        if (result->IsPromise()) {
            v8::Local<v8::Promise> p = result.As<v8::Promise>();
            if (p->State() == v8::Promise::kPending &&
                v8_loop_run(iso, ctx, h->loop, p, h->deadline_ns) == V8_LOOP_THREW)
                break;
            if (p->State() == v8::Promise::kRejected) {
                iso->ThrowException(p->Result());
                break;
            }
            if (p->State() == v8::Promise::kPending) {
                failed = false;
                engine_outcome_error(out, TFAAS_STATUS_DEVELOPER_ERR,
                                     "The action returned a promise that never settled.");
                break;
            }
            result = p->Result();
        }
        failed = false;
        if (result->IsObject() && !result->IsArray() && !result->IsFunction()) {
            if (!v8::JSON::Stringify(ctx, result).ToLocal(&json)) failed = true;
        }
    } while (0);
    std::string err = failed && !bad_params ? exception_text(h, ctx, tc, "An error has occurred: ") : "";
    iso->SetData(V8_FETCH_SLOT, nullptr);
    if (end_limits(h, out)) {
        /* a limit stopped it, whatever else happened */
    } else if (bad_params) {
        /* The host checks params; reaching here means it let a bad one through. */
        engine_outcome_error(out, TFAAS_STATUS_INTERNAL_ERR, "The action parameters are not a JSON object.");
    } else if (failed) {
        engine_outcome_error(out, TFAAS_STATUS_DEVELOPER_ERR, err.c_str());
    } else if (!out->result) {
        size_t len = json.IsEmpty() ? 0 : json->Utf8Length(iso);
        if (json.IsEmpty() || len == 0 || json->Length() < 1) {
            engine_outcome_error(out, TFAAS_STATUS_DEVELOPER_ERR, ENGINE_MSG_NOT_DICT);
        } else if (len > lim->max_result_bytes) {
            engine_outcome_too_long(out, len, lim->max_result_bytes);
        } else if (!(out->result = static_cast<char *>(malloc(len + 1)))) {
            engine_outcome_error(out, TFAAS_STATUS_INTERNAL_ERR, ENGINE_MSG_ENCLAVE_OOM);
        } else {
            json->WriteUtf8(iso, out->result, (int)len + 1, nullptr, v8::String::REPLACE_INVALID_UTF8);
            out->result[len] = '\0';
            replace_lone_surrogates(out->result, len);
            if (out->result[0] != '{') {
                engine_outcome_error(out, TFAAS_STATUS_DEVELOPER_ERR, ENGINE_MSG_NOT_DICT);
            } else {
                out->status = TFAAS_STATUS_SUCCESS;
                /* Cheap test first; the parse settles a quoted "error" inside a value. */
                v8::Local<v8::Value> back;
                if (strstr(out->result, "\"error\"") && v8::JSON::Parse(ctx, json).ToLocal(&back) &&
                    back->IsObject() &&
                    /* own: an "error" on Object.prototype is not the result's */
                    back.As<v8::Object>()->HasOwnProperty(ctx, str(iso, "error")).FromMaybe(false))
                    out->status = TFAAS_STATUS_APPLICATION_ERR;
            }
        }
    }
    /* A heap that brushed its memory limit is kept no further. */
    if (h->oom) out->discard = 1;
    finish(h, out);
}

int engine_self_test(void) {
    /* With an already expired deadline the watchdog must stop this loop.
     * Also starts V8 and the watchdog thread while threads may be created. */
    static const char probe[] = "for (;;) {}";
    return engine_probe_interrupts(probe, sizeof probe - 1, 16u << 20);
}

void engine_v8_code_cache_counts(unsigned long *compiled, unsigned long *from_cache) {
    std::lock_guard<std::mutex> g(cache.mu);
    if (compiled) *compiled = cache.compiled;
    if (from_cache) *from_cache = cache.from_cache;
}

} // extern "C"
