#ifndef MERCOMAIL_SMTP_H
#define MERCOMAIL_SMTP_H
#endif
