/* node_surface.cc - require(), process and Buffer for actions on V8
 * (node_surface.h). The natives below are all that v8/loader.js can reach:
 * lookups in the heap's own unzipped archive, the bundled built-ins'
 * sources, and a compiler; each takes any JavaScript value without harm. */
#include "trusted/v8/node_surface.h"

#include "trusted/v8/node_sources.h"

extern "C" {
#include "common/code_archive.h"
}

#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <unordered_map>

namespace tfaas_v8 {

struct NodeSurface {
    std::shared_ptr<const code_archive> shared; /* the zip's files, shared with the function's other heaps */
    const code_archive *archive = nullptr;      /* shared.get(); NULL: no zip (require finds built-ins only) */
    bool node = false;
    bool starting = false;      /* the loader is being started (lazy_global) */
    std::string env_json;       /* the latest environment, for a loader started later */
    v8::Global<v8::Object> api; /* the loader's {require, main, setEnv} */
};

namespace {

v8::Local<v8::String> str(v8::Isolate *iso, const char *s, size_t len) {
    return v8::String::NewFromUtf8(iso, s, v8::NewStringType::kNormal, (int)len).ToLocalChecked();
}

NodeSurface *self(const v8::FunctionCallbackInfo<v8::Value> &a) {
    return static_cast<NodeSurface *>(a.Data().As<v8::External>()->Value());
}

/* args[0] as UTF-8, or false when it is no string. */
bool path_arg(const v8::FunctionCallbackInfo<v8::Value> &a, std::string *out) {
    if (a.Length() < 1 || !a[0]->IsString()) return false;
    v8::String::Utf8Value u(a.GetIsolate(), a[0]);
    if (!*u) return false;
    out->assign(*u, (size_t)u.length());
    return true;
}

const code_archive_file *file_arg(const v8::FunctionCallbackInfo<v8::Value> &a) {
    std::string p;
    NodeSurface *s = self(a);
    if (!s->archive || !path_arg(a, &p)) return nullptr;
    return code_archive_find(s->archive, p.data(), p.size());
}

void native_read(const v8::FunctionCallbackInfo<v8::Value> &a) {
    const code_archive_file *f = file_arg(a);
    if (!f) return; /* undefined */
    v8::Isolate *iso = a.GetIsolate();
    v8::Local<v8::String> text;
    if (f->len > (size_t)v8::String::kMaxLength ||
        !v8::String::NewFromUtf8(iso, (const char *)f->data, v8::NewStringType::kNormal, (int)f->len).ToLocal(&text)) {
        iso->ThrowError(v8::String::NewFromUtf8Literal(iso, "a file of the zip action is too long to load"));
        return;
    }
    a.GetReturnValue().Set(text);
}

void native_is_file(const v8::FunctionCallbackInfo<v8::Value> &a) { a.GetReturnValue().Set(file_arg(a) != nullptr); }

void native_is_dir(const v8::FunctionCallbackInfo<v8::Value> &a) {
    std::string p;
    NodeSurface *s = self(a);
    a.GetReturnValue().Set(s->archive && path_arg(a, &p) && code_archive_is_dir(s->archive, p.data(), p.size()));
}

/* A built-in by its Node name ("util"): the bundle util.js. */
const embedded_file *find_builtin(const v8::FunctionCallbackInfo<v8::Value> &a) {
    std::string name;
    if (!path_arg(a, &name)) return nullptr;
    name += ".js";
    for (size_t i = 0; i < tfaas_node_builtins_count; i++)
        if (name == tfaas_node_builtins[i].name) return &tfaas_node_builtins[i];
    return nullptr;
}

void native_is_builtin(const v8::FunctionCallbackInfo<v8::Value> &a) {
    a.GetReturnValue().Set(find_builtin(a) != nullptr);
}

void native_builtin(const v8::FunctionCallbackInfo<v8::Value> &a) {
    const embedded_file *b = find_builtin(a);
    if (b) a.GetReturnValue().Set(str(a.GetIsolate(), reinterpret_cast<const char *>(b->data), b->len));
}

/* compile(text, filename): the module's function, as Node wraps a CommonJS
 * file, with filename in stack traces. */
void native_compile(const v8::FunctionCallbackInfo<v8::Value> &a) {
    v8::Isolate *iso = a.GetIsolate();
    if (a.Length() < 2 || !a[0]->IsString() || !a[1]->IsString()) {
        iso->ThrowError(v8::String::NewFromUtf8Literal(iso, "compile(text, filename)"));
        return;
    }
    v8::Local<v8::Context> ctx = iso->GetCurrentContext();
    v8::ScriptOrigin origin(iso, a[1]);
    v8::ScriptCompiler::Source src(a[0].As<v8::String>(), origin);
    v8::Local<v8::String> params[] = {v8::String::NewFromUtf8Literal(iso, "exports"),
                                      v8::String::NewFromUtf8Literal(iso, "require"),
                                      v8::String::NewFromUtf8Literal(iso, "module"),
                                      v8::String::NewFromUtf8Literal(iso, "__filename"),
                                      v8::String::NewFromUtf8Literal(iso, "__dirname")};
    v8::Local<v8::Function> fn;
    if (v8::ScriptCompiler::CompileFunction(ctx, &src, 5, params).ToLocal(&fn)) a.GetReturnValue().Set(fn);
}

bool set_fn(v8::Local<v8::Context> ctx, v8::Local<v8::Object> o, const char *name, v8::FunctionCallback cb,
            v8::Local<v8::External> data) {
    v8::Isolate *iso = ctx->GetIsolate();
    v8::Local<v8::Function> fn;
    return v8::Function::New(ctx, cb, data).ToLocal(&fn) && o->Set(ctx, str(iso, name, strlen(name)), fn).FromMaybe(false);
}

/* Runs v8/loader.js with the natives and keeps its API in s->api. */
bool start_loader(v8::Isolate *iso, v8::Local<v8::Context> ctx, NodeSurface *s) {
    v8::Local<v8::External> data = v8::External::New(iso, s);
    v8::Local<v8::Object> native = v8::Object::New(iso);
    if (!set_fn(ctx, native, "read", native_read, data) || !set_fn(ctx, native, "isFile", native_is_file, data) ||
        !set_fn(ctx, native, "isDir", native_is_dir, data) || !set_fn(ctx, native, "compile", native_compile, data) ||
        !set_fn(ctx, native, "isBuiltin", native_is_builtin, data) ||
        !set_fn(ctx, native, "builtin", native_builtin, data))
        return false;
    v8::ScriptOrigin origin(iso, v8::String::NewFromUtf8Literal(iso, "tfaas:loader"));
    v8::Local<v8::Script> script;
    v8::Local<v8::Value> factory, api;
    v8::Local<v8::Value> argv[] = {native, v8::Boolean::New(iso, s->node)};
    if (!v8::Script::Compile(ctx, str(iso, reinterpret_cast<const char *>(tfaas_js_loader), tfaas_js_loader_len),
                             &origin).ToLocal(&script) ||
        !script->Run(ctx).ToLocal(&factory) || !factory->IsFunction() ||
        !factory.As<v8::Function>()->Call(ctx, v8::Undefined(iso), 2, argv).ToLocal(&api) || !api->IsObject())
        return false;
    s->api.Reset(iso, api.As<v8::Object>());
    return true;
}

/* Calls the loader's method `name` with argc args. */
bool call_api(v8::Isolate *iso, v8::Local<v8::Context> ctx, NodeSurface *s, const char *name, int argc,
              v8::Local<v8::Value> *argv, v8::Local<v8::Value> *out) {
    v8::Local<v8::Object> api = s->api.Get(iso);
    v8::Local<v8::Value> fn, ignored;
    if (!api->Get(ctx, str(iso, name, strlen(name))).ToLocal(&fn) || !fn->IsFunction()) return false;
    return fn.As<v8::Function>()->Call(ctx, api, argc, argv).ToLocal(out ? out : &ignored);
}

/* Unzipped archives by the code cache's key (engine_v8.cc: SHA-256 of the
 * tenant and the zip): the heaps of one
 * function (one tenant's zip) share one copy instead of unzipping their own
 * (lodash: 16 ms of CPU and 1.4 MB a heap). An entry lives while a heap holds
 * it; the tenant is in the key for the code cache's reason (engine_v8.cc):
 * no tenant learns from its load time whether another runs the same zip.
 * Each heap still counts the whole archive against its memory limit. */
struct {
    std::mutex mu;
    std::unordered_map<std::string, std::weak_ptr<const code_archive>> by_key;
} archives;

/* The function's unzipped archive: a live one, or unzipped and checked
 * now (code_archive_status on failure, with the entry to blame). */
code_archive_status archive_get(const std::string &key, const char *zip, size_t len,
                                std::shared_ptr<const code_archive> *out, char *entry, size_t entry_size) {
    if (!key.empty()) {
        std::lock_guard<std::mutex> g(archives.mu);
        auto it = archives.by_key.find(key);
        if (it != archives.by_key.end() && (*out = it->second.lock())) return CODE_ARCHIVE_OK;
    }
    code_archive *a = nullptr;
    code_archive_status st = code_archive_open(zip, len, &a, entry, entry_size);
    if (st != CODE_ARCHIVE_OK) return st;
    out->reset(a, [](const code_archive *x) { code_archive_free(const_cast<code_archive *>(x)); });
    if (key.empty()) return CODE_ARCHIVE_OK; /* no key, no sharing */
    std::lock_guard<std::mutex> g(archives.mu);
    for (auto it = archives.by_key.begin(); it != archives.by_key.end();) /* forget the dead ones */
        it = it->second.expired() ? archives.by_key.erase(it) : std::next(it);
    archives.by_key[key] = *out;
    return CODE_ARCHIVE_OK;
}

bool is_zip(const char *code, size_t len) { return len >= 4 && !memcmp(code, "PK\x03\x04", 4); }

const char *const kLazyGlobals[] = {"process", "require", "Buffer"};

/* Starts the loader for a nodejs:* heap, with the latest environment in
 * process.env. */
bool start_node(v8::Isolate *iso, v8::Local<v8::Context> ctx, NodeSurface *s) {
    if (!start_loader(iso, ctx, s)) return false;
    v8::Local<v8::Value> values;
    if (s->env_json.empty()) return true;
    return v8::JSON::Parse(ctx, str(iso, s->env_json.data(), s->env_json.size())).ToLocal(&values) &&
           call_api(iso, ctx, s, "setEnv", 1, &values, nullptr);
}

/* The first read of process, require or Buffer in a nodejs:* heap: the
 * loader is compiled and run only then (about 1.5 ms of CPU that a heap
 * which never needs it does not pay), and V8 replaces the property with the
 * value given here. */
void lazy_global(v8::Local<v8::Name> name, const v8::PropertyCallbackInfo<v8::Value> &info) {
    v8::Isolate *iso = info.GetIsolate();
    NodeSurface *s = static_cast<NodeSurface *>(info.Data().As<v8::External>()->Value());
    v8::Local<v8::Context> ctx = iso->GetCurrentContext();
    if (s->starting) return; /* undefined while the loader starts */
    if (s->api.IsEmpty()) {
        s->starting = true;
        bool ok = start_node(iso, ctx, s);
        s->starting = false;
        if (!ok) return; /* the exception propagates to the reader */
    }
    v8::Local<v8::Value> v;
    if (name->StrictEquals(v8::String::NewFromUtf8Literal(iso, "Buffer"))) {
        if (call_api(iso, ctx, s, "Buffer", 0, nullptr, &v)) info.GetReturnValue().Set(v);
    } else if (s->api.Get(iso)->Get(ctx, name).ToLocal(&v)) {
        info.GetReturnValue().Set(v);
    }
}

/* The environment as an object of strings; empty handle without one. */
bool env_object(v8::Isolate *iso, v8::Local<v8::Context> ctx, const engine_env *env, v8::Local<v8::Value> *out) {
    if (!env || !env->env_json) return true;
    return v8::JSON::Parse(ctx, str(iso, env->env_json, env->env_len)).ToLocal(out);
}

} // namespace

Load surface_load(v8::Isolate *iso, v8::Local<v8::Context> ctx, NodeSurface **sp, const engine_env *env,
                  const std::string &key, const char *code, size_t code_len, v8::Local<v8::Value> *exports) {
    bool node = env && env->node, zip = is_zip(code, code_len);
    if (!node && !zip) return Load::kScript;
    NodeSurface *s = *sp;
    if (!s && !(s = *sp = new (std::nothrow) NodeSurface)) {
        iso->ThrowError(v8::String::NewFromUtf8Literal(iso, "out of memory"));
        return Load::kFailed;
    }
    s->node = node;
    if (zip && !s->archive) {
        char entry[CODE_ARCHIVE_MAX_PATH + 1], msg[CODE_ARCHIVE_MAX_PATH + 512];
        code_archive_status st = archive_get(key, code, code_len, &s->shared, entry, sizeof entry);
        s->archive = s->shared.get();
        if (st != CODE_ARCHIVE_OK) {
            code_archive_message(st, entry, msg, sizeof msg);
            iso->ThrowException(str(iso, msg, strlen(msg))); /* a string: the message is the error */
            return Load::kFailed;
        }
    }
    if (env && env->env_json) s->env_json.assign(env->env_json, env->env_len);
    if (node) {
        /* the Node globals appear when first read */
        v8::Local<v8::External> data = v8::External::New(iso, s);
        for (const char *n : kLazyGlobals)
            if (ctx->Global()->SetLazyDataProperty(ctx, str(iso, n, strlen(n)), lazy_global, data).IsNothing())
                return Load::kFailed;
    }
    if (!zip) return Load::kScript;
    if (s->api.IsEmpty() && !(node ? start_node(iso, ctx, s) : start_loader(iso, ctx, s))) return Load::kFailed;
    return call_api(iso, ctx, s, "main", 0, nullptr, exports) ? Load::kZip : Load::kFailed;
}

bool surface_env(v8::Isolate *iso, v8::Local<v8::Context> ctx, NodeSurface *s, const engine_env *env,
                 v8::Local<v8::Value> *second) {
    v8::Local<v8::Value> values;
    if (!env_object(iso, ctx, env, &values)) return false;
    if (values.IsEmpty()) return true;
    if (env->node) {
        if (!s) return true;
        s->env_json.assign(env->env_json, env->env_len); /* for a loader started later in this call */
        return s->api.IsEmpty() || call_api(iso, ctx, s, "setEnv", 1, &values, nullptr);
    }
    *second = values;
    return true;
}

size_t surface_bytes(const NodeSurface *s) { return s && s->archive ? code_archive_bytes(s->archive) : 0; }

void surface_free(NodeSurface *s) {
    if (!s) return;
    s->api.Reset();
    delete s; /* the archive goes with the last heap holding it */
}

} // namespace tfaas_v8
