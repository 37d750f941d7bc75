DUK_INTERNAL duk_ret_t duk_bi_array_prototype_join_shared(duk_hthread *thr) {
	/* tfaas (scripts/duk-source.sh): Array.prototype.join and
	 * toLocaleString append every element to one growing buffer. Duktape's
	 * own version joins 4096 values at a time into a new string that holds
	 * all earlier ones, so each step copies and re-interns the result so far:
	 * quadratic in the result's length (8M elements took over 60 s). The
	 * timeout is checked every 65536 elements, because a sparse array may
	 * be 2^32-1 long and produce nothing at all. */
	duk_uint32_t len, idx;
	duk_small_int_t to_locale_string = duk_get_current_magic(thr);
	duk_hstring *h_sep;
	duk_bufwriter_ctx bw_alloc;
	duk_bufwriter_ctx *bw = &bw_alloc;

	/* For join(), nargs is 1; for toLocaleString(), 0, so the separator
	 * defaults to a comma. */
	duk_set_top(thr, 1);
	if (duk_is_undefined(thr, 0)) {
		duk_pop_undefined(thr);
		duk_push_hstring_stridx(thr, DUK_STRIDX_COMMA);
	} else {
		duk_to_string(thr, 0);
	}
	h_sep = duk_known_hstring(thr, 0);

	len = duk__push_this_obj_len_u32(thr);
	DUK_BW_INIT_PUSHBUF(thr, bw, 0);

	/* [ sep ToObject(this) len buf ] */

	for (idx = 0; idx < len; idx++) {
		if ((idx & 0xffffUL) == 0xffffUL && DUK_USE_EXEC_TIMEOUT_CHECK(thr->heap->heap_udata)) {
			DUK_ERROR_RANGE(thr, "execution timeout");
			DUK_WO_NORETURN(return 0;);
		}
		if (idx > 0) {
			DUK_BW_WRITE_ENSURE_HSTRING(thr, bw, h_sep);
		}
		duk_get_prop_index(thr, 1, (duk_uarridx_t) idx);
		if (!duk_is_null_or_undefined(thr, -1)) {
			duk_hstring *h_val;
			if (to_locale_string) {
				duk_to_object(thr, -1);
				duk_get_prop_stridx_short(thr, -1, DUK_STRIDX_TO_LOCALE_STRING);
				duk_insert(thr, -2); /* -> [ ... toLocaleString ToObject(val) ] */
				duk_call_method(thr, 0);
			}
			h_val = duk_to_hstring(thr, -1);
			DUK_BW_WRITE_ENSURE_HSTRING(thr, bw, h_val);
		}
		duk_pop(thr);
	}

	DUK_BW_PUSH_AS_STRING(thr, bw);

	/* [ sep ToObject(this) len buf result ] */

	return 1;
}
