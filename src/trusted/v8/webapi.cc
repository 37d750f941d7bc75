/* webapi.cc - the natives under webapi.js (webapi_natives.h): byte-string
 * crypto from src/trusted/crypto/webcrypto.h, UTF-8 through V8's own
 * codec, structured clone through v8::ValueSerializer.
 *
 * Conventions of the natives (webapi.js is their only caller): bytes come
 * in as ArrayBufferViews (a detached one reads as empty), results go out as
 * fresh ArrayBuffers allocated through the isolate's ArrayBuffer allocator,
 * so they count against the function's memory limit (a refusal there
 * terminates the activation, as engine_v8.cc's allocator does). A failure
 * of a primitive throws the DOMException webapi.js registered
 * (native.DOMException) with the WebCrypto name for it. */
#include "trusted/v8/webapi_natives.h"

extern "C" {
#include "trusted/crypto/webcrypto.h"
}

#include <cstring>
#include <string>
#include <vector>

namespace {

v8::Local<v8::String> str(v8::Isolate *iso, const char *s) {
    return v8::String::NewFromUtf8(iso, s).ToLocalChecked();
}

/* Throws native.DOMException(message, name); a plain Error before
 * webapi.js registered it (it always does first). */
void throw_dom(const v8::FunctionCallbackInfo<v8::Value> &args, const char *message, const char *name) {
    v8::Isolate *iso = args.GetIsolate();
    v8::Local<v8::Context> ctx = iso->GetCurrentContext();
    v8::Local<v8::Value> cls, ex;
    v8::Local<v8::Value> argv[2] = {str(iso, message), str(iso, name)};
    if (args.Data()->IsObject() &&
        args.Data().As<v8::Object>()->Get(ctx, str(iso, "DOMException")).ToLocal(&cls) && cls->IsFunction() &&
        cls.As<v8::Function>()->NewInstance(ctx, 2, argv).ToLocal(&ex)) {
        iso->ThrowException(ex);
        return;
    }
    if (!iso->IsExecutionTerminating()) iso->ThrowError(str(iso, message));
}

/* The WebCrypto error for a failed primitive. */
void throw_wc(const v8::FunctionCallbackInfo<v8::Value> &args, wc_result r) {
    const char *name = r == WC_ERR_HASH ? "NotSupportedError" : r == WC_ERR_KEY ? "DataError" : "OperationError";
    throw_dom(args, wc_result_name(r), name);
}

/* A view's bytes (empty for a detached buffer); false, with a TypeError
 * thrown, when v is no ArrayBufferView. */
struct Bytes {
    const uint8_t *p = nullptr;
    size_t n = 0;
};

bool bytes_of(const v8::FunctionCallbackInfo<v8::Value> &args, int i, Bytes *b) {
    v8::Local<v8::Value> v = args[i];
    if (!v->IsArrayBufferView()) {
        args.GetIsolate()->ThrowError(str(args.GetIsolate(), "internal: bytes expected"));
        return false;
    }
    v8::Local<v8::ArrayBufferView> view = v.As<v8::ArrayBufferView>();
    b->n = view->ByteLength();
    void *base = view->Buffer()->Data();
    b->p = base && b->n ? static_cast<const uint8_t *>(base) + view->ByteOffset() : nullptr;
    if (!b->p) b->n = 0;
    return true;
}

/* Exactly n bytes, or a DataError. */
bool key_of(const v8::FunctionCallbackInfo<v8::Value> &args, int i, size_t n, Bytes *b) {
    if (!bytes_of(args, i, b)) return false;
    if (b->n == n) return true;
    throw_wc(args, WC_ERR_KEY);
    return false;
}

/* args[i] as a short string (a hash name); "" when it is none. */
std::string name_of(const v8::FunctionCallbackInfo<v8::Value> &args, int i) {
    if (!args[i]->IsString()) return "";
    v8::String::Utf8Value u(args.GetIsolate(), args[i]);
    return *u && u.length() < 16 ? std::string(*u, (size_t)u.length()) : "";
}

/* A fresh ArrayBuffer of n bytes from the counting allocator; false when
 * refused (the allocator has then ended the activation). */
bool new_buffer(v8::Isolate *iso, size_t n, v8::Local<v8::ArrayBuffer> *out, uint8_t **data) {
    v8::ArrayBuffer::Allocator *a = iso->GetArrayBufferAllocator();
    void *p = a->AllocateUninitialized(n);
    if (!p) {
        if (!iso->IsExecutionTerminating()) iso->ThrowError(str(iso, "out of memory"));
        return false;
    }
    auto bs = v8::ArrayBuffer::NewBackingStore(
        p, n, [](void *d, size_t len, void *alloc) { static_cast<v8::ArrayBuffer::Allocator *>(alloc)->Free(d, len); },
        a);
    *out = v8::ArrayBuffer::New(iso, std::move(bs));
    *data = static_cast<uint8_t *>(p);
    return true;
}

/* Returns a copy of n bytes at p as an ArrayBuffer. */
void return_bytes(const v8::FunctionCallbackInfo<v8::Value> &args, const uint8_t *p, size_t n) {
    v8::Local<v8::ArrayBuffer> ab;
    uint8_t *d;
    if (!new_buffer(args.GetIsolate(), n, &ab, &d)) return;
    if (n) memcpy(d, p, n);
    args.GetReturnValue().Set(ab);
}

/* ---- natives ------------------------------------------------------------- */

/* random(view): fills the view (the caller checked type and quota). */
void n_random(const v8::FunctionCallbackInfo<v8::Value> &args) {
    Bytes b;
    if (!bytes_of(args, 0, &b)) return;
    wc_result r = wc_random(const_cast<uint8_t *>(b.p), b.n);
    if (r != WC_OK) throw_wc(args, r);
}

/* digest(hash, data) */
void n_digest(const v8::FunctionCallbackInfo<v8::Value> &args) {
    std::string h = name_of(args, 0);
    Bytes in;
    if (!bytes_of(args, 1, &in)) return;
    uint8_t out[WC_MAX_DIGEST];
    wc_result r = wc_digest(h.c_str(), in.p, in.n, out);
    if (r != WC_OK) return throw_wc(args, r);
    return_bytes(args, out, wc_digest_len(h.c_str()));
}

/* hmac(hash, key, data) */
void n_hmac(const v8::FunctionCallbackInfo<v8::Value> &args) {
    std::string h = name_of(args, 0);
    Bytes key, in;
    if (!bytes_of(args, 1, &key) || !bytes_of(args, 2, &in)) return;
    uint8_t out[WC_MAX_DIGEST];
    wc_result r = wc_hmac(h.c_str(), key.p, key.n, in.p, in.n, out);
    if (r != WC_OK) return throw_wc(args, r);
    return_bytes(args, out, wc_digest_len(h.c_str()));
}

/* hkdf(hash, ikm, salt, info, bytes) */
void n_hkdf(const v8::FunctionCallbackInfo<v8::Value> &args) {
    std::string h = name_of(args, 0);
    Bytes ikm, salt, info;
    if (!bytes_of(args, 1, &ikm) || !bytes_of(args, 2, &salt) || !bytes_of(args, 3, &info)) return;
    double len = args[4]->IsNumber() ? args[4].As<v8::Number>()->Value() : -1;
    if (!(len >= 1 && len <= 255.0 * WC_MAX_DIGEST)) return throw_wc(args, WC_ERR_PARAM);
    v8::Local<v8::ArrayBuffer> ab;
    uint8_t *d;
    if (!new_buffer(args.GetIsolate(), (size_t)len, &ab, &d)) return;
    wc_result r = wc_hkdf(h.c_str(), ikm.p, ikm.n, salt.p, salt.n, info.p, info.n, d, (size_t)len);
    if (r != WC_OK) return throw_wc(args, r);
    args.GetReturnValue().Set(ab);
}

/* aesGcm(encrypt, key, iv, aad, tagBytes, data) */
void n_aes_gcm(const v8::FunctionCallbackInfo<v8::Value> &args) {
    bool enc = args[0]->IsTrue();
    Bytes key, iv, aad, in;
    if (!bytes_of(args, 1, &key) || !bytes_of(args, 2, &iv) || !bytes_of(args, 3, &aad) || !bytes_of(args, 5, &in))
        return;
    double tag = args[4]->IsNumber() ? args[4].As<v8::Number>()->Value() : 0;
    if (!(tag >= 0 && tag <= WC_GCM_MAX_TAG)) return throw_wc(args, WC_ERR_PARAM);
    if (!enc && in.n < (size_t)tag) return throw_wc(args, WC_ERR_AUTH);
    v8::Local<v8::ArrayBuffer> ab;
    uint8_t *d;
    size_t cap = enc ? in.n + (size_t)tag : in.n - (size_t)tag, out_len = 0;
    if (!new_buffer(args.GetIsolate(), cap, &ab, &d)) return;
    wc_result r = wc_aes_gcm(enc, key.p, key.n, iv.p, iv.n, aad.p, aad.n, (size_t)tag, in.p, in.n, d, &out_len);
    if (r != WC_OK) return throw_wc(args, r);
    args.GetReturnValue().Set(ab);
}

/* Returns [a, b] as two ArrayBuffers. */
void return_pair(const v8::FunctionCallbackInfo<v8::Value> &args, const uint8_t *a, size_t an, const uint8_t *b,
                 size_t bn) {
    v8::Isolate *iso = args.GetIsolate();
    v8::Local<v8::ArrayBuffer> x, y;
    uint8_t *xd, *yd;
    if (!new_buffer(iso, an, &x, &xd) || !new_buffer(iso, bn, &y, &yd)) return;
    memcpy(xd, a, an);
    memcpy(yd, b, bn);
    v8::Local<v8::Value> both[2] = {x, y};
    args.GetReturnValue().Set(v8::Array::New(iso, both, 2));
}

/* p256Generate() -> [d, pub], ed25519Generate() -> [seed, pub]: a fresh
 * pair from gen, a private part of A bytes and a public one of B. */
template <wc_result (*gen)(uint8_t *, uint8_t *), size_t A, size_t B>
void n_generate(const v8::FunctionCallbackInfo<v8::Value> &args) {
    uint8_t priv[A], pub[B];
    wc_result r = gen(priv, pub);
    if (r == WC_OK) return_pair(args, priv, A, pub, B);
    else throw_wc(args, r);
    memset(priv, 0, A);
}

/* p256Check(pub) or p256Check(pub, d): throws a DataError unless a valid
 * public key (and, with d, the pair of a private key). */
void n_p256_check(const v8::FunctionCallbackInfo<v8::Value> &args) {
    Bytes pub, d;
    if (!bytes_of(args, 0, &pub)) return;
    wc_result r = wc_p256_check_public(pub.p, pub.n);
    if (r == WC_OK && args.Length() > 1) {
        if (!key_of(args, 1, WC_P256_SCALAR, &d)) return;
        r = wc_p256_check_pair(d.p, pub.p);
    }
    if (r != WC_OK) throw_wc(args, r);
}

/* ecdsaSign(hash, d, pub, data) */
void n_ecdsa_sign(const v8::FunctionCallbackInfo<v8::Value> &args) {
    std::string h = name_of(args, 0);
    Bytes d, pub, in;
    if (!key_of(args, 1, WC_P256_SCALAR, &d) || !key_of(args, 2, WC_P256_POINT, &pub) || !bytes_of(args, 3, &in))
        return;
    uint8_t sig[WC_P256_SIG];
    wc_result r = wc_ecdsa_sign(h.c_str(), d.p, pub.p, in.p, in.n, sig);
    if (r != WC_OK) return throw_wc(args, r);
    return_bytes(args, sig, sizeof sig);
}

/* ecdsaVerify(hash, pub, sig, data) -> bool */
void n_ecdsa_verify(const v8::FunctionCallbackInfo<v8::Value> &args) {
    std::string h = name_of(args, 0);
    Bytes pub, sig, in;
    if (!key_of(args, 1, WC_P256_POINT, &pub) || !bytes_of(args, 2, &sig) || !bytes_of(args, 3, &in)) return;
    int valid = 0;
    wc_result r = wc_ecdsa_verify(h.c_str(), pub.p, sig.p, sig.n, in.p, in.n, &valid);
    if (r != WC_OK) return throw_wc(args, r);
    args.GetReturnValue().Set(valid != 0);
}

/* p256Spki(pub) -> der, ed25519Public(seed) -> pub: fn from a key of IN
 * bytes to OUT bytes. */
template <wc_result (*fn)(const uint8_t *, uint8_t *), size_t IN, size_t OUT>
void n_derive(const v8::FunctionCallbackInfo<v8::Value> &args) {
    Bytes key;
    if (!key_of(args, 0, IN, &key)) return;
    uint8_t out[OUT];
    wc_result r = fn(key.p, out);
    if (r != WC_OK) return throw_wc(args, r);
    return_bytes(args, out, OUT);
}

/* p256FromSpki(der) -> pub */
void n_p256_from_spki(const v8::FunctionCallbackInfo<v8::Value> &args) {
    Bytes der;
    if (!bytes_of(args, 0, &der)) return;
    uint8_t pub[WC_P256_POINT];
    wc_result r = wc_p256_from_spki(der.p, der.n, pub);
    if (r != WC_OK) return throw_wc(args, r);
    return_bytes(args, pub, sizeof pub);
}

/* ed25519Sign(seed, data); ed25519Verify(pub, sig, data) -> bool */
void n_ed25519_sign(const v8::FunctionCallbackInfo<v8::Value> &args) {
    Bytes seed, in;
    if (!key_of(args, 0, WC_ED25519_KEY, &seed) || !bytes_of(args, 1, &in)) return;
    uint8_t sig[WC_ED25519_SIG];
    wc_result r = wc_ed25519_sign(seed.p, in.p, in.n, sig);
    if (r != WC_OK) return throw_wc(args, r);
    return_bytes(args, sig, sizeof sig);
}

void n_ed25519_verify(const v8::FunctionCallbackInfo<v8::Value> &args) {
    Bytes pub, sig, in;
    if (!key_of(args, 0, WC_ED25519_KEY, &pub) || !bytes_of(args, 1, &sig) || !bytes_of(args, 2, &in)) return;
    int valid = 0;
    wc_result r = wc_ed25519_verify(pub.p, sig.p, sig.n, in.p, in.n, &valid);
    if (r != WC_OK) return throw_wc(args, r);
    args.GetReturnValue().Set(valid != 0);
}

/* utf8Encode(string) -> ArrayBuffer: lone surrogates become U+FFFD, as the
 * Encoding standard's encoder does. */
void n_utf8_encode(const v8::FunctionCallbackInfo<v8::Value> &args) {
    v8::Isolate *iso = args.GetIsolate();
    if (!args[0]->IsString()) return;
    v8::Local<v8::String> s = args[0].As<v8::String>();
    size_t n = (size_t)s->Utf8Length(iso);
    v8::Local<v8::ArrayBuffer> ab;
    uint8_t *d;
    if (!new_buffer(iso, n, &ab, &d)) return;
    s->WriteUtf8(iso, reinterpret_cast<char *>(d), (int)n, nullptr,
                 v8::String::NO_NULL_TERMINATION | v8::String::REPLACE_INVALID_UTF8);
    args.GetReturnValue().Set(ab);
}

/* utf8Decode(view, fatal) -> string, or null when fatal and the bytes are
 * not UTF-8. V8's decoder replaces each maximal bad subpart with U+FFFD as
 * the Encoding standard says; valid input is exactly what encodes back to
 * the same bytes, which is the fatal check (a replaced byte comes back as
 * EF BF BD, never as itself). */
void n_utf8_decode(const v8::FunctionCallbackInfo<v8::Value> &args) {
    v8::Isolate *iso = args.GetIsolate();
    Bytes in;
    if (!bytes_of(args, 0, &in)) return;
    if (in.n > (size_t)v8::String::kMaxLength) {
        iso->ThrowError(v8::String::NewFromUtf8Literal(iso, "the input is too long to decode"));
        return;
    }
    v8::Local<v8::String> s;
    if (!v8::String::NewFromUtf8(iso, reinterpret_cast<const char *>(in.p), v8::NewStringType::kNormal, (int)in.n)
             .ToLocal(&s))
        return;
    if (args[1]->IsTrue()) {
        size_t n = (size_t)s->Utf8Length(iso);
        bool same = n == in.n;
        if (same && n) {
            std::string back(n, '\0');
            s->WriteUtf8(iso, &back[0], (int)n, nullptr, v8::String::NO_NULL_TERMINATION);
            same = memcmp(back.data(), in.p, n) == 0;
        }
        if (!same) return args.GetReturnValue().SetNull();
    }
    args.GetReturnValue().Set(s);
}

/* structuredClone's serializer: a DataCloneError DOMException for what
 * cannot be cloned (functions, symbols, host objects, shared memory). */
class CloneDelegate final : public v8::ValueSerializer::Delegate {
public:
    explicit CloneDelegate(const v8::FunctionCallbackInfo<v8::Value> &args) : args_(args) {}
    void ThrowDataCloneError(v8::Local<v8::String> message) override {
        v8::String::Utf8Value u(args_.GetIsolate(), message);
        throw_dom(args_, *u ? *u : "could not be cloned", "DataCloneError");
    }

private:
    const v8::FunctionCallbackInfo<v8::Value> &args_;
};

/* clone(value, transfer) -> a structured clone (HTML's
 * StructuredSerializeWithTransfer and StructuredDeserializeWithTransfer,
 * which V8's serializer implements); transfer is an array of distinct,
 * detachable ArrayBuffers (webapi.js checked), whose contents move to the
 * clone: the originals are detached once the clone is whole. */
void n_clone(const v8::FunctionCallbackInfo<v8::Value> &args) {
    v8::Isolate *iso = args.GetIsolate();
    v8::Local<v8::Context> ctx = iso->GetCurrentContext();
    std::vector<v8::Local<v8::ArrayBuffer>> moved;
    if (args[1]->IsArray()) {
        v8::Local<v8::Array> list = args[1].As<v8::Array>();
        for (uint32_t i = 0; i < list->Length(); i++) {
            v8::Local<v8::Value> v;
            if (!list->Get(ctx, i).ToLocal(&v)) return;
            if (!v->IsArrayBuffer() || !v.As<v8::ArrayBuffer>()->IsDetachable() ||
                v.As<v8::ArrayBuffer>()->WasDetached())
                return throw_dom(args, "only detachable ArrayBuffers not yet detached can be transferred",
                                 "DataCloneError");
            moved.push_back(v.As<v8::ArrayBuffer>());
        }
    }
    CloneDelegate delegate(args);
    v8::ValueSerializer ser(iso, &delegate);
    ser.WriteHeader();
    for (uint32_t i = 0; i < moved.size(); i++) ser.TransferArrayBuffer(i, moved[i]);
    if (ser.WriteValue(ctx, args[0]).IsNothing()) return;
    /* A getter run by the serializer may have detached one meanwhile. */
    for (auto &ab : moved)
        if (ab->WasDetached()) return throw_dom(args, "a transferred ArrayBuffer was detached meanwhile", "DataCloneError");
    std::pair<uint8_t *, size_t> buf = ser.Release();
    v8::Local<v8::Value> out;
    {
        v8::ValueDeserializer des(iso, buf.first, buf.second);
        /* the clone's buffers hold the originals' memory */
        for (uint32_t i = 0; i < moved.size(); i++)
            des.TransferArrayBuffer(i, v8::ArrayBuffer::New(iso, moved[i]->GetBackingStore()));
        if (des.ReadHeader(ctx).FromMaybe(false) && des.ReadValue(ctx).ToLocal(&out)) {
            for (auto &ab : moved) ab->Detach();
            args.GetReturnValue().Set(out);
        }
    }
    free(buf.first); /* the default delegate's realloc'd buffer */
}

} // namespace

v8::MaybeLocal<v8::Object> webapi_natives(v8::Isolate *iso, v8::Local<v8::Context> ctx) {
    static const struct { const char *name; v8::FunctionCallback fn; } natives[] = {
        {"random", n_random},
        {"digest", n_digest},
        {"hmac", n_hmac},
        {"hkdf", n_hkdf},
        {"aesGcm", n_aes_gcm},
        {"p256Generate", n_generate<wc_p256_generate, WC_P256_SCALAR, WC_P256_POINT>},
        {"p256Check", n_p256_check},
        {"ecdsaSign", n_ecdsa_sign},
        {"ecdsaVerify", n_ecdsa_verify},
        {"p256Spki", n_derive<wc_p256_spki, WC_P256_POINT, WC_P256_SPKI>},
        {"p256FromSpki", n_p256_from_spki},
        {"ed25519Generate", n_generate<wc_ed25519_generate, WC_ED25519_KEY, WC_ED25519_KEY>},
        {"ed25519Public", n_derive<wc_ed25519_public, WC_ED25519_KEY, WC_ED25519_KEY>},
        {"ed25519Sign", n_ed25519_sign},
        {"ed25519Verify", n_ed25519_verify},
        {"utf8Encode", n_utf8_encode},
        {"utf8Decode", n_utf8_decode},
        {"clone", n_clone},
    };
    v8::Local<v8::Object> native = v8::Object::New(iso);
    for (const auto &n : natives) {
        v8::Local<v8::Function> f;
        if (!v8::Function::New(ctx, n.fn, native).ToLocal(&f) || native->Set(ctx, str(iso, n.name), f).IsNothing())
            return {};
    }
    return native;
}
