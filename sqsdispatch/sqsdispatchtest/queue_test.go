package sqsdispatchtest_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsdispatch/go-sqsdispatch/sqsdispatch/sqsdispatchtest"
)

func getAttrs(t *testing.T, c *sqsdispatchtest.Client, url string, names ...types.QueueAttributeName) map[string]string {
	t.Helper()
	out, err := c.GetQueueAttributes(t.Context(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: names})
	if err != nil {
		t.Fatalf("GetQueueAttributes: %v", err)
	}
	return out.Attributes
}

func TestGetQueueAttributes(t *testing.T) {
	t.Parallel()
	e := setup(t, map[string]string{"VisibilityTimeout": "45", "ReceiveMessageWaitTimeSeconds": "2"})
	for _, b := range []string{"1", "2", "3"} {
		send(t, e.c, e.url, b)
	}
	if _, err := e.c.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: aws.String(e.url),
		MessageBody: aws.String("later"), DelaySeconds: 60}); err != nil {
		t.Fatal(err)
	}
	receiveOne(t, e.c, e.url)

	all := getAttrs(t, e.c, e.url, types.QueueAttributeNameAll)
	want := map[string]string{
		"VisibilityTimeout":                     "45",
		"ReceiveMessageWaitTimeSeconds":         "2",
		"MaximumMessageSize":                    "1048576",
		"MessageRetentionPeriod":                "345600",
		"DelaySeconds":                          "0",
		"QueueArn":                              "arn:aws:sqs:us-east-1:000000000000:q",
		"ApproximateNumberOfMessages":           "2",
		"ApproximateNumberOfMessagesNotVisible": "1",
		"ApproximateNumberOfMessagesDelayed":    "1",
		"CreatedTimestamp":                      strconv.FormatInt(testStart.Unix(), 10),
		"LastModifiedTimestamp":                 strconv.FormatInt(testStart.Unix(), 10),
	}
	for k, v := range want {
		if all[k] != v {
			t.Errorf("%s = %q, want %q", k, all[k], v)
		}
	}
	for _, k := range []string{"RedrivePolicy", "FifoQueue", "ContentBasedDeduplication"} {
		if _, ok := all[k]; ok {
			t.Errorf("a standard queue without a redrive policy has %s", k)
		}
	}

	some := getAttrs(t, e.c, e.url, types.QueueAttributeNameVisibilityTimeout, types.QueueAttributeNameApproximateNumberOfMessages)
	if len(some) != 2 || some["VisibilityTimeout"] != "45" || some["ApproximateNumberOfMessages"] != "2" {
		t.Errorf("attributes asked by name = %v", some)
	}

	_, err := e.c.GetQueueAttributes(t.Context(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(e.url), AttributeNames: []types.QueueAttributeName{"Nope"}})
	if got := code(err); got != "InvalidAttributeName" {
		t.Errorf("unknown attribute: error code = %q, want InvalidAttributeName", got)
	}
	_, err = e.c.GetQueueAttributes(t.Context(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(e.url + "x")})
	if got := code(err); got != "QueueDoesNotExist" {
		t.Errorf("unknown queue: error code = %q, want QueueDoesNotExist", got)
	}
}

func TestGetQueueAttributesFIFO(t *testing.T) {
	t.Parallel()
	e := setup(t, nil)
	url := fifoQueue(t, e, map[string]string{"ContentBasedDeduplication": "true"})
	all := getAttrs(t, e.c, url, types.QueueAttributeNameAll)
	if all["FifoQueue"] != "true" || all["ContentBasedDeduplication"] != "true" {
		t.Errorf("FIFO attributes = %v", all)
	}
}

func TestGetQueueURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    []sqsdispatchtest.Option
		in      sqs.GetQueueUrlInput
		wantURL string
		wantErr string
	}{
		{name: "default", in: sqs.GetQueueUrlInput{QueueName: aws.String("jobs")},
			wantURL: "https://sqs.us-east-1.amazonaws.com/000000000000/jobs"},
		{name: "region and account", opts: []sqsdispatchtest.Option{sqsdispatchtest.WithRegion("eu-west-1"), sqsdispatchtest.WithAccountID("123456789012")},
			in:      sqs.GetQueueUrlInput{QueueName: aws.String("jobs"), QueueOwnerAWSAccountId: aws.String("123456789012")},
			wantURL: "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs"},
		{name: "base URL", opts: []sqsdispatchtest.Option{sqsdispatchtest.WithBaseURL("http://localhost:4566/000000000000/")},
			in: sqs.GetQueueUrlInput{QueueName: aws.String("jobs")}, wantURL: "http://localhost:4566/000000000000/jobs"},
		{name: "unknown name", in: sqs.GetQueueUrlInput{QueueName: aws.String("nope")}, wantErr: "QueueDoesNotExist"},
		{name: "another account", in: sqs.GetQueueUrlInput{QueueName: aws.String("jobs"), QueueOwnerAWSAccountId: aws.String("111111111111")},
			wantErr: "QueueDoesNotExist"},
		{name: "no name", wantErr: "MissingParameter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := sqsdispatchtest.NewClient(tt.opts...)
			created := createQueue(t, c, "jobs", nil)
			out, err := c.GetQueueUrl(t.Context(), &tt.in)
			if got := code(err); got != tt.wantErr {
				t.Fatalf("error code = %q (%v), want %q", got, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got := aws.ToString(out.QueueUrl); got != tt.wantURL || got != created {
				t.Errorf("QueueUrl = %s (created %s), want %s", got, created, tt.wantURL)
			}
		})
	}
}

// Callers can match the SDK's typed error as well as the code.
func TestQueueDoesNotExistIsTyped(t *testing.T) {
	t.Parallel()
	c := sqsdispatchtest.NewClient()
	_, err := c.GetQueueUrl(t.Context(), &sqs.GetQueueUrlInput{QueueName: aws.String("nope")})
	var qdne *types.QueueDoesNotExist
	if !errors.As(err, &qdne) {
		t.Fatalf("error %v is not a *types.QueueDoesNotExist", err)
	}
}

func TestCreateQueue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		qname   string
		attrs   map[string]string
		wantErr string
	}{
		{name: "same attributes again", qname: "q", attrs: map[string]string{"VisibilityTimeout": "60"}},
		{name: "no attributes again", qname: "q"},
		{name: "different attributes", qname: "q", attrs: map[string]string{"VisibilityTimeout": "61"}, wantErr: "QueueNameExists"},
		{name: "name with a dot", qname: "a.b", wantErr: "InvalidParameterValue"},
		{name: "name too long", qname: strings.Repeat("a", 81), wantErr: "InvalidParameterValue"},
		{name: "fifo suffix without FifoQueue", qname: "f.fifo", wantErr: "InvalidParameterValue"},
		{name: "FifoQueue without the suffix", qname: "f", attrs: map[string]string{"FifoQueue": "true"}, wantErr: "InvalidParameterValue"},
		{name: "unknown attribute", qname: "n", attrs: map[string]string{"Colour": "blue"}, wantErr: "InvalidAttributeName"},
		{name: "content-based deduplication on a standard queue", qname: "n",
			attrs: map[string]string{"ContentBasedDeduplication": "true"}, wantErr: "InvalidAttributeName"},
		{name: "visibility out of range", qname: "n", attrs: map[string]string{"VisibilityTimeout": "43201"}, wantErr: "InvalidAttributeValue"},
		{name: "wait out of range", qname: "n", attrs: map[string]string{"ReceiveMessageWaitTimeSeconds": "21"}, wantErr: "InvalidAttributeValue"},
		{name: "size not a number", qname: "n", attrs: map[string]string{"MaximumMessageSize": "big"}, wantErr: "InvalidAttributeValue"},
		{name: "stored attribute", qname: "n", attrs: map[string]string{"KmsMasterKeyId": "alias/aws/sqs"}},
		{name: "no name", wantErr: "MissingParameter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := sqsdispatchtest.NewClient()
			first := createQueue(t, c, "q", map[string]string{"VisibilityTimeout": "60"})
			out, err := c.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String(tt.qname), Attributes: tt.attrs})
			if got := code(err); got != tt.wantErr {
				t.Fatalf("error code = %q (%v), want %q", got, err, tt.wantErr)
			}
			if err == nil && tt.qname == "q" && aws.ToString(out.QueueUrl) != first {
				t.Errorf("QueueUrl = %s, want %s", aws.ToString(out.QueueUrl), first)
			}
		})
	}
}

func TestSetQueueAttributes(t *testing.T) {
	t.Parallel()
	e := setup(t, nil)
	e.clock.Advance(time.Hour)
	if _, err := e.c.SetQueueAttributes(t.Context(), &sqs.SetQueueAttributesInput{QueueUrl: aws.String(e.url),
		Attributes: map[string]string{"VisibilityTimeout": "5"}}); err != nil {
		t.Fatal(err)
	}
	a := getAttrs(t, e.c, e.url, types.QueueAttributeNameAll)
	if a["VisibilityTimeout"] != "5" || a["LastModifiedTimestamp"] != strconv.FormatInt(testStart.Add(time.Hour).Unix(), 10) {
		t.Errorf("attributes = %v", a)
	}
	send(t, e.c, e.url, "m")
	receiveOne(t, e.c, e.url)
	e.clock.Advance(5 * time.Second)
	wantCounts(t, e.c, e.url, 1, 0)

	_, err := e.c.SetQueueAttributes(t.Context(), &sqs.SetQueueAttributesInput{QueueUrl: aws.String(e.url),
		Attributes: map[string]string{"FifoQueue": "true"}})
	if got := code(err); got != "InvalidAttributeValue" {
		t.Errorf("changing FifoQueue: error code = %q, want InvalidAttributeValue", got)
	}
}
