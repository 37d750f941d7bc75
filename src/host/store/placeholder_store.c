/* placeholder until the store module lands */
typedef int tfaas_placeholder_store;
