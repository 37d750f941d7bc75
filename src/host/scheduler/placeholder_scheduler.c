/* placeholder until the scheduler module lands */
typedef int tfaas_placeholder_scheduler;
