/* webapi_install.cc - the lazy globals of the V8 enclave (webapi.h): a
 * table of JavaScript modules compiled into the binary and of the globals
 * each provides. A new context gets only lazy properties; the first access
 * to one runs its module in that context, once (its exports are kept on the
 * global object under a private key), inside the activation that touched
 * it. Each module's compiled code is shared across heaps. */
#include "trusted/v8/webapi.h"
#include "trusted/v8/webapi_natives.h"

#include <memory>
#include <mutex>
#include <vector>

#include "common/embedded.h"

/* Compiled in by scripts/embed.cmake: src/trusted/v8/bundle/url.js bundled
 * with whatwg-url, and webapi.js, the parts of src/trusted/v8/webapi/ joined. */
EMBEDDED_BYTES(tfaas_url_js);
EMBEDDED_BYTES(tfaas_webapi_js);

namespace {

using Blob = std::shared_ptr<const std::vector<uint8_t>>;

/* A module: one JavaScript expression evaluating to a function, called with
 * the natives (webapi.js) or with nothing (bundles of npm packages), that
 * returns the module's exports. */
struct Module {
    const char *key; /* private key of its exports on the global object */
    const char *origin;
    const unsigned char *src;
    size_t len;
    bool natives;
    /* Its compiled code, made by the first context that runs it (after the
     * run, so it holds the functions the top level compiled too) and
     * consumed by the next ones. The same embedded source in every heap and
     * tenant, so sharing it tells no tenant anything. Guarded by mu. */
    std::mutex mu;
    Blob cache;
};

enum { WEBAPI, URL };
Module modules[] = {
    {"tfaas.webapi", "tfaas:webapi.js", tfaas_webapi_js, tfaas_webapi_js_len, true, {}, {}},
    {"tfaas.url", "tfaas:url.js", tfaas_url_js, tfaas_url_js_len, false, {}, {}},
};

/* The globals, each an export of a module (by the same name unless said). */
const struct {
    const char *name;
    int module;
    const char *export_name; /* nullptr: name */
    bool symbol;             /* Symbol.for(name), not a string name */
} GLOBALS[] = {
    {"TextEncoder", WEBAPI, nullptr, false},
    {"TextDecoder", WEBAPI, nullptr, false},
    {"atob", WEBAPI, nullptr, false},
    {"btoa", WEBAPI, nullptr, false},
    {"structuredClone", WEBAPI, nullptr, false},
    {"crypto", WEBAPI, nullptr, false},
    {"Crypto", WEBAPI, nullptr, false},
    {"CryptoKey", WEBAPI, nullptr, false},
    {"SubtleCrypto", WEBAPI, nullptr, false},
    {"DOMException", WEBAPI, nullptr, false},
    {WEBAPI_NODE_CRYPTO_KEY, WEBAPI, "nodeCrypto", true},
    {"URL", URL, nullptr, false},
    {"URLSearchParams", URL, nullptr, false},
};

v8::Local<v8::String> str(v8::Isolate *iso, const char *s) {
    return v8::String::NewFromUtf8(iso, s).ToLocalChecked();
}

Blob cache_get(Module &m) {
    std::lock_guard<std::mutex> g(m.mu);
    return m.cache;
}

void cache_put(Module &m, v8::Local<v8::Script> script) {
    std::unique_ptr<v8::ScriptCompiler::CachedData> made(v8::ScriptCompiler::CreateCodeCache(script->GetUnboundScript()));
    if (!made || made->length <= 0) return;
    auto blob = std::make_shared<const std::vector<uint8_t>>(made->data, made->data + made->length);
    std::lock_guard<std::mutex> g(m.mu);
    m.cache = blob;
}

/* The module's exports in this context, running it the first time. */
v8::MaybeLocal<v8::Object> exports_of(v8::Isolate *iso, v8::Local<v8::Context> ctx, Module &m) {
    v8::Local<v8::Object> global = ctx->Global();
    v8::Local<v8::Private> key = v8::Private::ForApi(iso, str(iso, m.key));
    v8::Local<v8::Value> have;
    if (!global->GetPrivate(ctx, key).ToLocal(&have)) return {};
    if (have->IsObject()) return have.As<v8::Object>();
    v8::Local<v8::Value> argv[1];
    v8::Local<v8::Object> native;
    if (m.natives) {
        if (!webapi_natives(iso, ctx).ToLocal(&native)) return {};
        argv[0] = native;
    }
    v8::Local<v8::String> src;
    if (m.len > (size_t)v8::String::kMaxLength ||
        !v8::String::NewFromUtf8(iso, reinterpret_cast<const char *>(m.src), v8::NewStringType::kNormal, (int)m.len)
             .ToLocal(&src))
        return {};
    Blob cached = cache_get(m);
    v8::ScriptCompiler::CachedData *cd = nullptr;
    if (cached)
        cd = new v8::ScriptCompiler::CachedData(cached->data(), (int)cached->size(),
                                                v8::ScriptCompiler::CachedData::BufferNotOwned);
    v8::ScriptOrigin origin(iso, str(iso, m.origin));
    v8::ScriptCompiler::Source source(src, origin, cd); /* owns cd */
    v8::Local<v8::Script> script;
    v8::Local<v8::Value> factory, result;
    if (!v8::ScriptCompiler::Compile(ctx, &source, cached ? v8::ScriptCompiler::kConsumeCodeCache
                                                         : v8::ScriptCompiler::kNoCompileOptions)
             .ToLocal(&script) ||
        !script->Run(ctx).ToLocal(&factory) || !factory->IsFunction() ||
        !factory.As<v8::Function>()->Call(ctx, v8::Undefined(iso), m.natives ? 1 : 0, argv).ToLocal(&result) ||
        !result->IsObject() || global->SetPrivate(ctx, key, result).IsNothing())
        return {};
    if (!cached || source.GetCachedData()->rejected) cache_put(m, script);
    return result.As<v8::Object>();
}

/* The getter of each lazy global (data: its index in GLOBALS): its value
 * from its module's exports; V8 then replaces the accessor with it. */
void lazy_get(v8::Local<v8::Name>, const v8::PropertyCallbackInfo<v8::Value> &info) {
    v8::Isolate *iso = info.GetIsolate();
    v8::Local<v8::Context> ctx = iso->GetCurrentContext();
    const auto &g = GLOBALS[info.Data().As<v8::Integer>()->Value()];
    v8::Local<v8::Object> exports;
    v8::Local<v8::Value> v;
    if (!exports_of(iso, ctx, modules[g.module]).ToLocal(&exports) ||
        !exports->Get(ctx, str(iso, g.export_name ? g.export_name : g.name)).ToLocal(&v))
        return;
    info.GetReturnValue().Set(v);
}

} // namespace

bool webapi_install(v8::Isolate *iso, v8::Local<v8::Context> ctx) {
    v8::Local<v8::Object> global = ctx->Global();
    /* Web IDL: interface objects and operations of the global are
     * writable, configurable, not enumerable. */
    for (size_t i = 0; i < sizeof GLOBALS / sizeof GLOBALS[0]; i++) {
        v8::Local<v8::Name> name = GLOBALS[i].symbol ? v8::Local<v8::Name>(v8::Symbol::For(iso, str(iso, GLOBALS[i].name)))
                                                     : v8::Local<v8::Name>(str(iso, GLOBALS[i].name));
        if (global->SetLazyDataProperty(ctx, name, lazy_get, v8::Integer::New(iso, (int)i), v8::DontEnum).IsNothing())
            return false;
    }
    return true;
}
