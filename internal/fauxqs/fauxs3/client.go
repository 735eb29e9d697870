// Package fauxs3 builds S3 clients for the S3 emulation of the local
// server (package fauxqs). It is apart from fauxqs so that what starts the
// server needs no S3 SDK.
package fauxs3

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/sqsdispatch/go-sqsdispatch/internal/fauxqs"
)

// Client returns an S3 client that sends every request to the S3
// emulation of the server at endpoint, path-style
// (http://127.0.0.1:PORT/BUCKET/KEY), with dummy credentials.
func Client(ctx context.Context, endpoint string) (*s3.Client, error) {
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithRegion(fauxqs.Region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(fauxqs.AccessKey, fauxqs.SecretKey, "")),
	)
	if err != nil {
		return nil, err
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.UsePathStyle = true
		// The server returns no checksums to validate; validating would only log that.
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	}), nil
}
