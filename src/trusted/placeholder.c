/* placeholder, replaced by the trusted-side work */
typedef int tfaas_placeholder_trusted;
