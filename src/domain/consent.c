#include "domain/policy.h"
typedef int cu_consent_placeholder;
