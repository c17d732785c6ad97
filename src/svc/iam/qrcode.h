/* qrcode.h: QR code PNGs (CreateVirtualMFADevice's QRCodePNG). */
#ifndef NB_SVC_IAM_QRCODE_H
#define NB_SVC_IAM_QRCODE_H

#include <stddef.h>

/* text (at most 461 bytes) as a QR code (byte mode, level L), as a PNG of *len bytes
 * (malloc'd, the caller frees); NULL when the text is too long or memory runs out. */
unsigned char *iam_qr_png(const char *text, size_t *len);

#endif
