/* apimgmt.h - API routes (apimgmt.c): their management where the openwhisk
 * client and `wsk api` send it, POST|GET|DELETE
 * /api/v1/web/whisk.system/apimgmt/{createApi,getApi,deleteApi}.http
 * with the caller's credentials, and serving them at
 * /apigw/{namespace}{basepath}{relpath}. Not for use outside
 * src/host/gateway/. */
#ifndef TFAAS_HOST_GATEWAY_APIMGMT_H
#define TFAAS_HOST_GATEWAY_APIMGMT_H

#include "host/gateway/gateway_internal.h"

#define APIMGMT_NAMESPACE "whisk.system"
#define APIMGMT_PACKAGE "apimgmt"
#define APIGW_PREFIX "/apigw/"

/* op: createApi, getApi or deleteApi (404 for any other). */
enum MHD_Result apimgmt_handle(http_req *r, const char *op);
/* ROUTE_APIGW: r->rt.name is the path after APIGW_PREFIX. */
enum MHD_Result apigw_handle(http_req *r);

#endif
