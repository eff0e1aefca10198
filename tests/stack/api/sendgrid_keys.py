"""Generate the ECDSA P-256 key pair used to sign SendGrid Event Webhook test deliveries.

Usage: python sendgrid_keys.py PRIVATE_KEY_PEM PUBLIC_KEY_B64
Writes the private key as PKCS#8 PEM (mode 0600) and the public key as base64
DER (SubjectPublicKeyInfo), the format SendGrid shows in its settings page.
"""

import base64
import os
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


def main(private_path, public_path):
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    der = key.public_key().public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    with open(public_path, "w") as fh:
        fh.write(base64.b64encode(der).decode() + "\n")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
