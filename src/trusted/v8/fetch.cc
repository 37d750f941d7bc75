/* fetch.cc - the native half of the V8 enclave's fetch() and event loop;
 * see fetch.h. The JavaScript half (fetch.js, compiled into the binary)
 * gets one object `native` with fetch, encode and decode. */
#include "trusted/v8/fetch.h"

#include "common/embedded.h"
#include "trusted/fetch/fetch.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <string>
#include <vector>

EMBEDDED_BYTES(tfaas_js_fetch); /* v8/fetch.js, compiled in by scripts/embed.cmake */

namespace {

uint64_t mono_ns() {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

v8::Local<v8::String> str(v8::Isolate *iso, const char *s, int len = -1) {
    return v8::String::NewFromUtf8(iso, s, v8::NewStringType::kNormal, len).ToLocalChecked();
}

void throw_type_error(v8::Isolate *iso, const char *msg) {
    iso->ThrowException(v8::Exception::TypeError(str(iso, msg)));
}

std::string utf8(v8::Isolate *iso, v8::Local<v8::Value> v) {
    v8::String::Utf8Value u(iso, v);
    return *u ? std::string(*u, (size_t)u.length()) : std::string();
}

/* native.fetch(method, url, [name, value, ...], body|undefined, redirect)
 * -> [status, statusText, url, redirected, [name, value, ...], ArrayBuffer] */
void native_fetch(const v8::FunctionCallbackInfo<v8::Value> &args) {
    v8::Isolate *iso = args.GetIsolate();
    v8::Local<v8::Context> ctx = iso->GetCurrentContext();
    auto *act = static_cast<fetch_activation *>(iso->GetData(V8_FETCH_SLOT));
    if (args.Length() < 5 || !args[2]->IsArray()) return throw_type_error(iso, "fetch: bad arguments");
    std::string method = utf8(iso, args[0]), url = utf8(iso, args[1]), redirect = utf8(iso, args[4]);
    v8::Local<v8::Array> flat = args[2].As<v8::Array>();
    std::vector<std::string> hs;
    for (uint32_t i = 0; i < flat->Length(); i++) {
        v8::Local<v8::Value> v;
        if (!flat->Get(ctx, i).ToLocal(&v)) return;
        hs.push_back(utf8(iso, v));
    }
    std::vector<fetch_header> headers;
    for (size_t i = 0; i + 1 < hs.size(); i += 2)
        headers.push_back(fetch_header{const_cast<char *>(hs[i].c_str()), const_cast<char *>(hs[i + 1].c_str())});
    std::string text_body;
    std::shared_ptr<v8::BackingStore> store;
    fetch_request req{};
    req.method = method.c_str();
    req.url = url.c_str();
    req.headers = headers.data();
    req.nheaders = headers.size();
    req.redirect = redirect == "manual" ? FETCH_REDIRECT_MANUAL
                   : redirect == "error" ? FETCH_REDIRECT_ERROR : FETCH_REDIRECT_FOLLOW;
    if (args[3]->IsString()) {
        text_body = utf8(iso, args[3]);
        req.body = reinterpret_cast<const uint8_t *>(text_body.data());
        req.body_len = text_body.size();
    } else if (args[3]->IsArrayBuffer()) {
        store = args[3].As<v8::ArrayBuffer>()->GetBackingStore();
        req.body = store->Data() ? static_cast<const uint8_t *>(store->Data()) : reinterpret_cast<const uint8_t *>("");
        req.body_len = store->ByteLength();
    }
    fetch_response res;
    char *err = nullptr;
    if (fetch_run(act, &req, &res, &err) < 0) {
        throw_type_error(iso, err ? err : "fetch: out of memory");
        free(err);
        return;
    }
    v8::Local<v8::Array> out = v8::Array::New(iso, 6), rh = v8::Array::New(iso, (int)(2 * res.nheaders));
    for (size_t i = 0; i < res.nheaders; i++) {
        v8::Local<v8::String> n, v;
        if (!v8::String::NewFromUtf8(iso, res.headers[i].name).ToLocal(&n) ||
            !v8::String::NewFromOneByte(iso, reinterpret_cast<const uint8_t *>(res.headers[i].value)).ToLocal(&v) ||
            rh->Set(ctx, (uint32_t)(2 * i), n).IsNothing() || rh->Set(ctx, (uint32_t)(2 * i + 1), v).IsNothing()) {
            fetch_response_free(&res);
            return;
        }
    }
    /* The body is copied into memory the heap's allocator counts: a
     * response can only be as big as the function's memory limit allows. */
    v8::Local<v8::ArrayBuffer> ab;
    {
        std::unique_ptr<v8::BackingStore> bs =
            v8::ArrayBuffer::NewBackingStore(iso, res.body_len);
        if (!bs || (res.body_len && !bs->Data())) {
            fetch_response_free(&res);
            iso->ThrowException(v8::Exception::RangeError(str(iso, "fetch: the response does not fit in memory")));
            return;
        }
        if (res.body_len) memcpy(bs->Data(), res.body, res.body_len);
        ab = v8::ArrayBuffer::New(iso, std::move(bs));
    }
    bool ok = out->Set(ctx, 0, v8::Integer::New(iso, res.status)).IsJust() &&
              out->Set(ctx, 1, str(iso, res.status_text)).IsJust() && out->Set(ctx, 2, str(iso, res.url)).IsJust() &&
              out->Set(ctx, 3, v8::Boolean::New(iso, res.redirected != 0)).IsJust() &&
              out->Set(ctx, 4, rh).IsJust() && out->Set(ctx, 5, ab).IsJust();
    fetch_response_free(&res);
    if (ok) args.GetReturnValue().Set(out);
}

/* native.encode(string) -> ArrayBuffer of its UTF-8 */
void native_encode(const v8::FunctionCallbackInfo<v8::Value> &args) {
    v8::Isolate *iso = args.GetIsolate();
    std::string s = args.Length() ? utf8(iso, args[0]) : std::string();
    std::unique_ptr<v8::BackingStore> bs = v8::ArrayBuffer::NewBackingStore(iso, s.size());
    if (s.size()) memcpy(bs->Data(), s.data(), s.size());
    args.GetReturnValue().Set(v8::ArrayBuffer::New(iso, std::move(bs)));
}

/* native.decode(ArrayBuffer) -> string (invalid UTF-8 replaced) */
void native_decode(const v8::FunctionCallbackInfo<v8::Value> &args) {
    v8::Isolate *iso = args.GetIsolate();
    if (!args.Length() || !args[0]->IsArrayBuffer()) return throw_type_error(iso, "decode: not an ArrayBuffer");
    std::shared_ptr<v8::BackingStore> bs = args[0].As<v8::ArrayBuffer>()->GetBackingStore();
    if (bs->ByteLength() > (size_t)v8::String::kMaxLength)
        return throw_type_error(iso, "decode: the body is too long for a string");
    v8::Local<v8::String> s;
    if (v8::String::NewFromUtf8(iso, bs->ByteLength() ? static_cast<const char *>(bs->Data()) : "",
                                v8::NewStringType::kNormal, (int)bs->ByteLength())
            .ToLocal(&s))
        args.GetReturnValue().Set(s);
}

} // namespace

/* Compiles and runs fetch.js in ctx and keeps its {step, reset, api} in
 * *loop. false with an exception pending on failure. */
static bool compile_install(v8::Isolate *iso, v8::Local<v8::Context> ctx, v8::Global<v8::Object> *loop) {
    v8::Local<v8::String> src;
    if (!v8::String::NewFromUtf8(iso, reinterpret_cast<const char *>(tfaas_js_fetch), v8::NewStringType::kNormal,
                                 (int)tfaas_js_fetch_len)
             .ToLocal(&src))
        return false;
    v8::ScriptOrigin origin(iso, str(iso, "tfaas:fetch.js"));
    v8::Local<v8::Script> script;
    v8::Local<v8::Value> fn, result;
    v8::Local<v8::Object> native = v8::Object::New(iso);
    static const struct { const char *name; v8::FunctionCallback cb; } fns[] = {
        {"fetch", native_fetch}, {"encode", native_encode}, {"decode", native_decode}};
    for (const auto &f : fns) {
        v8::Local<v8::Function> nf;
        if (!v8::Function::New(ctx, f.cb).ToLocal(&nf) || native->Set(ctx, str(iso, f.name), nf).IsNothing())
            return false;
    }
    v8::Local<v8::Value> arg = native;
    if (!v8::Script::Compile(ctx, src, &origin).ToLocal(&script) || !script->Run(ctx).ToLocal(&fn) ||
        !fn->IsFunction() || !fn.As<v8::Function>()->Call(ctx, v8::Undefined(iso), 1, &arg).ToLocal(&result) ||
        !result->IsObject())
        return false;
    loop->Reset(iso, result.As<v8::Object>());
    return true;
}

/* The globals fetch.js defines. */
static const char *const lazy_names[] = {"fetch", "Headers", "Request", "Response", "AbortController", "AbortSignal",
                                         "setTimeout", "setInterval", "clearTimeout", "clearInterval",
                                         "queueMicrotask"};

/* First access to one of them: compile fetch.js (once per context), then
 * answer with its definition of that name (V8 then makes the placeholder
 * a plain data property holding it). */
static void lazy_get(v8::Local<v8::Name> name, const v8::PropertyCallbackInfo<v8::Value> &info) {
    v8::Isolate *iso = info.GetIsolate();
    v8::Local<v8::Context> ctx = iso->GetCurrentContext();
    auto *loop = static_cast<v8::Global<v8::Object> *>(info.Data().As<v8::External>()->Value());
    if (loop->IsEmpty() && !compile_install(iso, ctx, loop)) return;
    v8::Local<v8::Value> api, v;
    if (loop->Get(iso)->Get(ctx, str(iso, "api")).ToLocal(&api) && api->IsObject() &&
        api.As<v8::Object>()->Get(ctx, name).ToLocal(&v))
        info.GetReturnValue().Set(v);
}

bool v8_fetch_install(v8::Isolate *iso, v8::Local<v8::Context> ctx, v8::Global<v8::Object> *loop) {
    /* Lazy: compiling fetch.js costs milliseconds, and most functions never
     * touch these names, so a new heap pays only for the placeholders. */
    v8::Local<v8::Object> global = ctx->Global();
    v8::Local<v8::External> data = v8::External::New(iso, loop);
    for (const char *n : lazy_names)
        if (!global->SetLazyDataProperty(ctx, str(iso, n), lazy_get, data, v8::DontEnum).FromMaybe(false))
            return false;
    return true;
}

static bool call_member(v8::Isolate *iso, v8::Local<v8::Context> ctx, const v8::Global<v8::Object> &loop,
                        const char *name, v8::Local<v8::Value> *out) {
    v8::Local<v8::Object> o = loop.Get(iso);
    v8::Local<v8::Value> f;
    if (!o->Get(ctx, str(iso, name)).ToLocal(&f) || !f->IsFunction()) return false;
    return f.As<v8::Function>()->Call(ctx, o, 0, nullptr).ToLocal(out);
}

void v8_loop_reset(v8::Isolate *iso, v8::Local<v8::Context> ctx, const v8::Global<v8::Object> &loop) {
    if (loop.IsEmpty()) return;
    v8::TryCatch tc(iso);
    v8::Local<v8::Value> ignored;
    call_member(iso, ctx, loop, "reset", &ignored);
}

v8_loop_outcome v8_loop_run(v8::Isolate *iso, v8::Local<v8::Context> ctx, const v8::Global<v8::Object> &loop,
                            v8::Local<v8::Promise> p, uint64_t deadline_ns) {
    if (loop.IsEmpty()) return V8_LOOP_STUCK;
    while (p->State() == v8::Promise::kPending) {
        v8::Local<v8::Value> r;
        if (!call_member(iso, ctx, loop, "step", &r)) return V8_LOOP_THREW;
        iso->PerformMicrotaskCheckpoint();
        if (iso->IsExecutionTerminating()) return V8_LOOP_THREW;
        double wait = r->IsNumber() ? r.As<v8::Number>()->Value() : -1;
        if (p->State() != v8::Promise::kPending) break;
        if (wait < 0) return V8_LOOP_STUCK;
        if (wait > 0) {
            /* Sleep until the timer is due, never past the deadline: the
             * watchdog then terminates the next step. */
            uint64_t now = mono_ns();
            uint64_t left_ms = deadline_ns > now ? (deadline_ns - now) / 1000000u + 1 : 0;
            uint64_t ms = (uint64_t)wait < left_ms ? (uint64_t)wait : left_ms;
            if (ms > 0) poll(nullptr, 0, (int)(ms > 60000 ? 60000 : ms));
        }
    }
    return V8_LOOP_SETTLED;
}
