/* placeholder */
typedef int tfaas_placeholder_host;
